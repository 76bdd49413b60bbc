package protocol

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"time"

	"github.com/plumbline/plumbline/checks"
	"github.com/plumbline/plumbline/plugins/pluginpb"
)

// MetaToPB converts a check's metadata for Describe.
func MetaToPB(m checks.Meta) (*pluginpb.CheckMeta, error) {
	out := &pluginpb.CheckMeta{
		Id:          m.ID,
		Title:       m.Title,
		Family:      m.Family,
		Severity:    pluginpb.Severity(m.Severity),
		Rationale:   m.Rationale,
		Remediation: m.Remediation,
		Platforms:   m.Platforms,
	}
	for _, r := range m.References {
		out.References = append(out.References, &pluginpb.Reference{Framework: r.Framework, Control: r.Control, Platform: r.Platform})
	}
	for _, p := range m.Params {
		def, err := encodeParam(p.Kind, p.Default)
		if err != nil {
			return nil, fmt.Errorf("check %s: parameter %s default: %w", m.ID, p.Name, err)
		}
		ps := &pluginpb.ParamSpec{Name: p.Name, Kind: string(p.Kind), DefaultJson: def, Doc: p.Doc}
		if p.Min != nil {
			v := int64(*p.Min)
			ps.Min = &v
		}
		if p.Max != nil {
			v := int64(*p.Max)
			ps.Max = &v
		}
		out.Params = append(out.Params, ps)
	}
	return out, nil
}

// MetaFromPB converts and validates metadata a plugin described; a plugin
// that describes an invalid check is refused, as Register would.
func MetaFromPB(pb *pluginpb.CheckMeta) (checks.Meta, error) {
	m := checks.Meta{
		ID:          pb.GetId(),
		Title:       pb.GetTitle(),
		Family:      pb.GetFamily(),
		Severity:    checks.Severity(pb.GetSeverity()),
		Rationale:   pb.GetRationale(),
		Remediation: pb.GetRemediation(),
		Platforms:   pb.GetPlatforms(),
	}
	for _, r := range pb.GetReferences() {
		m.References = append(m.References, checks.Reference{Framework: r.GetFramework(), Control: r.GetControl(), Platform: r.GetPlatform()})
	}
	for _, p := range pb.GetParams() {
		spec := checks.ParamSpec{Name: p.GetName(), Kind: checks.ParamKind(p.GetKind()), Doc: p.GetDoc()}
		switch spec.Kind {
		case checks.KindInt, checks.KindString, checks.KindBool, checks.KindStringList, checks.KindDuration, checks.KindObject:
		default:
			return m, fmt.Errorf("check %s: parameter %q has unknown kind %q", m.ID, spec.Name, spec.Kind)
		}
		if p.Min != nil {
			v := int(p.GetMin())
			spec.Min = &v
		}
		if p.Max != nil {
			v := int(p.GetMax())
			spec.Max = &v
		}
		def, err := decodeJSON(p.GetDefaultJson())
		if err != nil {
			return m, fmt.Errorf("check %s: parameter %q default: %w", m.ID, spec.Name, err)
		}
		if spec.Default, err = spec.Coerce(def); err != nil {
			return m, fmt.Errorf("check %s: parameter %q default: %w", m.ID, spec.Name, err)
		}
		m.Params = append(m.Params, spec)
	}
	if err := m.Validate(); err != nil {
		return m, err
	}
	return m, nil
}

// encodeParam encodes one parameter value; durations travel as "10s" so
// that Coerce on the other side reads them back exactly.
func encodeParam(kind checks.ParamKind, v any) ([]byte, error) {
	if d, ok := v.(time.Duration); ok && kind == checks.KindDuration {
		v = d.String()
	}
	return json.Marshal(v)
}

// ParamsToJSON encodes resolved parameters for an Invocation.
func ParamsToJSON(specs []checks.ParamSpec, p checks.Params) ([]byte, error) {
	kinds := map[string]checks.ParamKind{}
	for _, s := range specs {
		kinds[s.Name] = s.Kind
	}
	raw := make(map[string]json.RawMessage, len(p))
	for name, v := range p {
		b, err := encodeParam(kinds[name], v)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", name, err)
		}
		raw[name] = b
	}
	return json.Marshal(raw)
}

// ParamsFromJSON decodes an Invocation's parameters and resolves them
// against the check's declared parameters, so that the check sees the same
// Go types (int, time.Duration, []string) as it would in-process.
func ParamsFromJSON(specs []checks.ParamSpec, data []byte) (checks.Params, error) {
	overrides := map[string]any{}
	if len(data) > 0 {
		v, err := decodeJSON(data)
		if err != nil {
			return nil, err
		}
		m, ok := v.(map[string]any)
		if !ok && v != nil {
			return nil, fmt.Errorf("parameters: want a JSON object")
		}
		overrides = m
	}
	return checks.Resolve(specs, overrides)
}

// decodeJSON decodes with integers kept exact (json.Number → int when
// integral) so that int parameters do not pass through float64.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return numbers(v), nil
}

func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		// int, as the YAML decoder gives for baseline parameters, so that a
		// check sees the same types in and out of process.
		if i, err := x.Int64(); err == nil && i == int64(int(i)) {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = numbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = numbers(x[k])
		}
	}
	return v
}

// ResultToPB converts a result for the Run stream.
func ResultToPB(id string, r checks.Result) *pluginpb.RunResult {
	out := &pluginpb.RunResult{
		CheckId:    id,
		Status:     pluginpb.Status(r.Status),
		Message:    r.Message,
		DurationNs: int64(r.Duration),
	}
	for _, e := range r.Evidence {
		out.Evidence = append(out.Evidence, &pluginpb.Evidence{
			Key: e.Key, Expected: e.Expected, Actual: e.Actual, Ok: e.OK, Path: e.Path, Line: int32(e.Line),
		})
	}
	return out
}

// ResultFromPB converts a streamed result. A status outside the contract is
// an error: the caller turns it into ERROR for that check.
func ResultFromPB(pb *pluginpb.RunResult) (checks.Result, error) {
	r := checks.Result{
		ID:       pb.GetCheckId(),
		Status:   checks.Status(pb.GetStatus()),
		Message:  pb.GetMessage(),
		Duration: checks.Duration(pb.GetDurationNs()),
	}
	if _, err := r.Status.MarshalText(); err != nil {
		return r, fmt.Errorf("plugin returned an invalid status %d for %s", int32(pb.GetStatus()), r.ID)
	}
	for _, e := range pb.GetEvidence() {
		r.Evidence = append(r.Evidence, checks.Evidence{
			Key: e.GetKey(), Expected: e.GetExpected(), Actual: e.GetActual(), OK: e.GetOk(), Path: e.GetPath(), Line: int(e.GetLine()),
		})
	}
	return r, nil
}

// FileInfoToPB converts a FileInfo for the host service.
func FileInfoToPB(fi checks.FileInfo) *pluginpb.FileInfo {
	return &pluginpb.FileInfo{
		Path: fi.Path, Name: fi.Name, Mode: uint32(fi.Mode), Uid: fi.UID, Gid: fi.GID,
		Size: fi.Size, ModTimeUnixNano: fi.ModTime.UnixNano(),
	}
}

// FileInfoFromPB is the inverse of FileInfoToPB.
func FileInfoFromPB(pb *pluginpb.FileInfo) checks.FileInfo {
	fi := checks.FileInfo{
		Path: pb.GetPath(), Name: pb.GetName(), Mode: fs.FileMode(pb.GetMode()), UID: pb.GetUid(), GID: pb.GetGid(),
		Size: pb.GetSize(),
	}
	if ns := pb.GetModTimeUnixNano(); ns != 0 {
		fi.ModTime = time.Unix(0, ns)
	}
	return fi
}

// ErrorToPB classifies a host error so that the plugin side can rebuild
// one that matches the same sentinels (fs.ErrNotExist, checks.ErrLoop...)
// and reads the same.
func ErrorToPB(err error) *pluginpb.HostError {
	if err == nil {
		return nil
	}
	kind := pluginpb.ErrorKind_ERROR_KIND_OTHER
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		kind = pluginpb.ErrorKind_ERROR_KIND_DEADLINE
	case errors.Is(err, context.Canceled):
		kind = pluginpb.ErrorKind_ERROR_KIND_CANCELED
	case errors.Is(err, fs.ErrNotExist):
		kind = pluginpb.ErrorKind_ERROR_KIND_NOT_EXIST
	case errors.Is(err, fs.ErrPermission):
		kind = pluginpb.ErrorKind_ERROR_KIND_PERMISSION
	case errors.Is(err, checks.ErrLoop):
		kind = pluginpb.ErrorKind_ERROR_KIND_LOOP
	case errors.Is(err, checks.ErrTooLarge):
		kind = pluginpb.ErrorKind_ERROR_KIND_TOO_LARGE
	case errors.Is(err, checks.ErrNotAllowed):
		kind = pluginpb.ErrorKind_ERROR_KIND_NOT_ALLOWED
	case errors.Is(err, syscall.ENOTDIR):
		kind = pluginpb.ErrorKind_ERROR_KIND_NOT_DIR
	}
	return &pluginpb.HostError{Kind: kind, Message: err.Error()}
}

// ErrorFromPB rebuilds a host error: its text is the agent's, and errors.Is
// matches the sentinel of its kind.
func ErrorFromPB(pb *pluginpb.HostError) error {
	if pb == nil {
		return nil
	}
	return &HostError{Kind: pb.GetKind(), Msg: pb.GetMessage()}
}

// HostError is an error the agent's host service returned.
type HostError struct {
	Kind pluginpb.ErrorKind
	Msg  string
}

func (e *HostError) Error() string { return e.Msg }

// Is matches the sentinel of the error's kind.
func (e *HostError) Is(target error) bool {
	switch e.Kind {
	case pluginpb.ErrorKind_ERROR_KIND_NOT_EXIST:
		return target == fs.ErrNotExist
	case pluginpb.ErrorKind_ERROR_KIND_PERMISSION:
		return target == fs.ErrPermission
	case pluginpb.ErrorKind_ERROR_KIND_LOOP:
		return target == checks.ErrLoop
	case pluginpb.ErrorKind_ERROR_KIND_TOO_LARGE:
		return target == checks.ErrTooLarge
	case pluginpb.ErrorKind_ERROR_KIND_NOT_ALLOWED:
		return target == checks.ErrNotAllowed
	case pluginpb.ErrorKind_ERROR_KIND_NOT_DIR:
		return target == syscall.ENOTDIR
	case pluginpb.ErrorKind_ERROR_KIND_DEADLINE:
		return target == context.DeadlineExceeded
	case pluginpb.ErrorKind_ERROR_KIND_CANCELED:
		return target == context.Canceled
	}
	return false
}
