package store

import (
	"context"
	"fmt"
)

// Reject keeps a copy of a message the ingest refused, so that an operator
// can see what an agent sent and why it was refused: at most
// MaxRejectedBytes of its data (Size keeps the original length; when Size
// is 0 it is taken from Data). Only the newest Options.MaxRejected are
// kept, so that a misbehaving agent cannot fill the disk. A zero At is
// stamped with Options.Now.
func (s *Store) Reject(ctx context.Context, rj Rejection) error {
	if rj.At.IsZero() {
		rj.At = s.opts.Now()
	}
	if rj.Size < len(rj.Data) {
		rj.Size = len(rj.Data)
	}
	if len(rj.Data) > MaxRejectedBytes {
		rj.Data = rj.Data[:MaxRejectedBytes]
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("keep rejected message in %s: begin: %w", s.path, classify(err))
	}
	defer tx.Rollback() // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `INSERT INTO rejected (subject, reason, at, size, data) VALUES (?, ?, ?, ?, ?)`,
		rj.Subject, rj.Reason, toNS(rj.At), rj.Size, rj.Data); err != nil {
		return fmt.Errorf("keep rejected message in %s: %w", s.path, classify(err))
	}
	// Ids grow, so the newest are the largest; one comparison deletes the
	// rest, however many an earlier, larger limit left.
	if _, err := tx.ExecContext(ctx, `
DELETE FROM rejected WHERE id <= (SELECT id FROM rejected ORDER BY id DESC LIMIT 1 OFFSET ?)`,
		s.opts.MaxRejected); err != nil {
		return fmt.Errorf("trim rejected messages in %s: %w", s.path, classify(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("keep rejected message in %s: commit: %w", s.path, classify(err))
	}
	return nil
}

// Rejected returns the newest kept rejections, newest first; limit <= 0
// means all that are kept.
func (s *Store) Rejected(ctx context.Context, limit int) ([]Rejection, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.r.QueryContext(ctx, `
SELECT id, subject, reason, at, size, data FROM rejected ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list rejected messages in %s: %w", s.path, err)
	}
	defer rows.Close()
	out := []Rejection{}
	for rows.Next() {
		var rj Rejection
		var at int64
		if err := rows.Scan(&rj.ID, &rj.Subject, &rj.Reason, &at, &rj.Size, &rj.Data); err != nil {
			return nil, fmt.Errorf("list rejected messages in %s: %w", s.path, err)
		}
		rj.At = fromNS(at)
		out = append(out, rj)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list rejected messages in %s: %w", s.path, err)
	}
	return out, nil
}
