package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/plumbline/plumbline/checks/report"
)

// AllHosts is the HostID of a waiver that covers every host.
const AllHosts = "*"

// Waive accepts a deviation until w.Expires: while now (Options.Now) is
// before it, a FAIL of w.CheckID on w.HostID (or on every host, for
// AllHosts) is waived rather than open. Waiving the same host and check
// again replaces the waiver. A zero Created is stamped with now.
//
// Refused with ErrInvalid: an empty check id, owner or reason, a host id
// that is neither AllHosts nor a valid host id, an expiry not in the
// future. Refused with ErrNotFound: a host id the store has never had a
// report from, since a waiver that matches nothing hides nothing and
// usually means a typo.
func (s *Store) Waive(ctx context.Context, w Waiver) error {
	now := s.opts.Now()
	w.CheckID, w.Owner, w.Reason = strings.TrimSpace(w.CheckID), strings.TrimSpace(w.Owner), strings.TrimSpace(w.Reason)
	switch {
	case w.HostID != AllHosts && report.ValidHostID(w.HostID) != nil:
		return fmt.Errorf("%w waiver: %w (or %q for every host)", ErrInvalid, report.ValidHostID(w.HostID), AllHosts)
	case w.CheckID == "":
		return fmt.Errorf("%w waiver: check id is empty", ErrInvalid)
	case w.Owner == "":
		return fmt.Errorf("%w waiver: owner is empty (who accepted the deviation?)", ErrInvalid)
	case w.Reason == "":
		return fmt.Errorf("%w waiver: reason is empty (why is the deviation accepted?)", ErrInvalid)
	case !w.Expires.After(now):
		return fmt.Errorf("%w waiver: expiry %s is not in the future", ErrInvalid, w.Expires.Format(time.RFC3339))
	}
	if w.Created.IsZero() {
		w.Created = now
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("waive %s on %s in %s: begin: %w", w.CheckID, w.HostID, s.path, classify(err))
	}
	defer tx.Rollback() // a no-op after Commit
	if w.HostID != AllHosts {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM hosts WHERE id = ?`, w.HostID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("waive %s on host %s: %w", w.CheckID, w.HostID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("waive %s on %s in %s: %w", w.CheckID, w.HostID, s.path, classify(err))
		}
	}
	if _, err := tx.ExecContext(ctx, `
INSERT INTO waivers (host_id, check_id, owner, reason, expires, created) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (host_id, check_id) DO UPDATE SET
	owner = excluded.owner, reason = excluded.reason, expires = excluded.expires, created = excluded.created`,
		w.HostID, w.CheckID, w.Owner, w.Reason, toNS(w.Expires), toNS(w.Created)); err != nil {
		return fmt.Errorf("waive %s on %s in %s: %w", w.CheckID, w.HostID, s.path, classify(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("waive %s on %s in %s: commit: %w", w.CheckID, w.HostID, s.path, classify(err))
	}
	s.log.Info("deviation waived", "host_id", w.HostID, "check_id", w.CheckID, "owner", w.Owner,
		"expires", w.Expires.UTC().Format(time.RFC3339))
	return nil
}

// Unwaive deletes the waiver of hostID (or AllHosts) and checkID;
// ErrNotFound when there is none.
func (s *Store) Unwaive(ctx context.Context, hostID, checkID string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM waivers WHERE host_id = ? AND check_id = ?`, hostID, checkID)
	if err != nil {
		return fmt.Errorf("unwaive %s on %s in %s: %w", checkID, hostID, s.path, classify(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("unwaive %s on %s in %s: %w", checkID, hostID, s.path, err)
	}
	if n == 0 {
		return fmt.Errorf("unwaive %s on host %s: %w", checkID, hostID, ErrNotFound)
	}
	s.log.Info("waiver removed", "host_id", hostID, "check_id", checkID)
	return nil
}

// Waivers returns every waiver, expired ones included (they explain why a
// deviation re-opened), sorted by host id then check id.
func (s *Store) Waivers(ctx context.Context) ([]Waiver, error) {
	ws, err := loadWaivers(ctx, s.r)
	if err != nil {
		return nil, fmt.Errorf("list waivers in %s: %w", s.path, err)
	}
	return ws, nil
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func loadWaivers(ctx context.Context, q queryer) ([]Waiver, error) {
	rows, err := q.QueryContext(ctx, `
SELECT host_id, check_id, owner, reason, expires, created FROM waivers ORDER BY host_id, check_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Waiver{}
	for rows.Next() {
		var w Waiver
		var expires, created int64
		if err := rows.Scan(&w.HostID, &w.CheckID, &w.Owner, &w.Reason, &expires, &created); err != nil {
			return nil, err
		}
		w.Expires, w.Created = fromNS(expires), fromNS(created)
		out = append(out, w)
	}
	return out, rows.Err()
}

// waiverSet answers "which waiver covers this failure, and is it live" at
// one instant.
type waiverSet struct {
	now time.Time
	m   map[[2]string]*Waiver
}

func newWaiverSet(ws []Waiver, now time.Time) waiverSet {
	set := waiverSet{now: now, m: make(map[[2]string]*Waiver, len(ws))}
	for i := range ws {
		set.m[[2]string{ws[i].HostID, ws[i].CheckID}] = &ws[i]
	}
	return set
}

// lookup returns the live waiver of (host, check), the host's own before
// a fleet-wide one; when none is live, the expired one, so that a
// re-opened deviation shows which waiver lapsed (live is false then).
func (ws waiverSet) lookup(hostID, checkID string) (w *Waiver, live bool) {
	own := ws.m[[2]string{hostID, checkID}]
	all := ws.m[[2]string{AllHosts, checkID}]
	for _, c := range []*Waiver{own, all} {
		if c != nil && ws.now.Before(c.Expires) {
			return c, true
		}
	}
	if own != nil {
		return own, false
	}
	return all, false
}

// loadWaiverSet reads the waivers as of now.
func loadWaiverSet(ctx context.Context, q queryer, now time.Time) (waiverSet, error) {
	ws, err := loadWaivers(ctx, q)
	if err != nil {
		return waiverSet{}, fmt.Errorf("read waivers: %w", err)
	}
	return newWaiverSet(ws, now), nil
}
