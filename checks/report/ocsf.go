package report

import (
	"encoding/json"
	"io"
	"slices"
	"strings"

	"github.com/plumbline/plumbline/checks"
)

// OCSF identifiers for a Compliance Finding (class 2003, category Findings),
// activity Create, against OCSF schema 1.3.0.
const (
	ocsfVersion        = "1.3.0"
	ocsfClassUID       = 2003
	ocsfCategoryUID    = 2
	ocsfActivityCreate = 1
)

// OCSFFinding is one OCSF Compliance Finding event.
type OCSFFinding struct {
	ActivityID   int             `json:"activity_id"`
	ActivityName string          `json:"activity_name"`
	CategoryUID  int             `json:"category_uid"`
	CategoryName string          `json:"category_name"`
	ClassUID     int             `json:"class_uid"`
	ClassName    string          `json:"class_name"`
	TypeUID      int             `json:"type_uid"`
	Time         int64           `json:"time"`
	SeverityID   int             `json:"severity_id"`
	Severity     string          `json:"severity"`
	StatusID     int             `json:"status_id"`
	Status       string          `json:"status"`
	Message      string          `json:"message"`
	Metadata     ocsfMetadata    `json:"metadata"`
	FindingInfo  ocsfFindingInfo `json:"finding_info"`
	Compliance   ocsfCompliance  `json:"compliance"`
	Device       ocsfDevice      `json:"device"`
	Unmapped     map[string]any  `json:"unmapped,omitempty"`
}

type ocsfMetadata struct {
	Version string      `json:"version"`
	Product ocsfProduct `json:"product"`
	UID     string      `json:"uid"`
}

type ocsfProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

type ocsfFindingInfo struct {
	UID   string `json:"uid"`
	Title string `json:"title"`
	Desc  string `json:"desc,omitempty"`
}

type ocsfCompliance struct {
	Control      string   `json:"control"`
	Standards    []string `json:"standards,omitempty"`
	Requirements []string `json:"requirements,omitempty"`
	Status       string   `json:"status"`
	StatusID     int      `json:"status_id"`
	StatusDetail string   `json:"status_detail,omitempty"`
}

type ocsfDevice struct {
	UID         string `json:"uid"`
	Hostname    string `json:"hostname,omitempty"`
	InstanceUID string `json:"instance_uid,omitempty"`
	Region      string `json:"region,omitempty"`
	TypeID      int    `json:"type_id"`
	OS          ocsfOS `json:"os"`
}

type ocsfOS struct {
	Name   string `json:"name"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
}

var ocsfSeverity = map[checks.Severity]struct {
	id   int
	name string
}{
	checks.SeverityInfo: {1, "Informational"}, checks.SeverityLow: {2, "Low"},
	checks.SeverityMedium: {3, "Medium"}, checks.SeverityHigh: {4, "High"},
	checks.SeverityCritical: {5, "Critical"},
}

// ocsfComplianceStatus maps statuses to compliance.status_id: 1 Pass,
// 3 Fail, 0 Unknown for ERROR (the check could not decide), 99 Other for
// NOT_APPLICABLE and SKIPPED.
func ocsfComplianceStatus(s checks.Status) (int, string) {
	switch s {
	case checks.StatusPass:
		return 1, "Pass"
	case checks.StatusFail:
		return 3, "Fail"
	case checks.StatusError:
		return 0, "Unknown"
	case checks.StatusNotApplicable:
		return 99, "Not Applicable"
	default:
		return 99, "Skipped"
	}
}

// OCSF converts a report to OCSF Compliance Findings, one per result.
// lookup supplies references (standards, requirements) and rationale.
func OCSF(r *Report, lookup MetaLookup) []OCSFFinding {
	out := make([]OCSFFinding, 0, len(r.Results))
	for _, res := range r.Results {
		sev := ocsfSeverity[res.Severity]
		statusID, status := ocsfComplianceStatus(res.Status)
		f := OCSFFinding{
			ActivityID: ocsfActivityCreate, ActivityName: "Create",
			CategoryUID: ocsfCategoryUID, CategoryName: "Findings",
			ClassUID: ocsfClassUID, ClassName: "Compliance Finding",
			TypeUID:    ocsfClassUID*100 + ocsfActivityCreate,
			Time:       r.FinishedAt.UnixMilli(),
			SeverityID: sev.id, Severity: sev.name,
			StatusID: 1, Status: "New",
			Message: res.Message,
			Metadata: ocsfMetadata{Version: ocsfVersion, UID: r.ScanID + "/" + res.ID,
				Product: ocsfProduct{Name: "plumbline", VendorName: "plumbline", Version: r.Agent}},
			FindingInfo: ocsfFindingInfo{UID: r.Host.ID + "/" + res.ID, Title: res.Title},
			Compliance:  ocsfCompliance{Control: res.ID, Status: status, StatusID: statusID, StatusDetail: res.Message},
			Device: ocsfDevice{UID: r.Host.ID, Hostname: r.Host.Hostname, InstanceUID: r.Host.InstanceID,
				Region: r.Host.Region, TypeID: 6, // Virtual
				OS: ocsfOS{Name: r.Facts.OS, TypeID: 200, Type: "Linux"}},
		}
		if lookup != nil {
			if c, ok := lookup(res.ID); ok {
				m := c.Meta()
				f.FindingInfo.Desc = m.Rationale
				for _, ref := range m.References {
					if ref.Platform != "" && !platformMatches(ref.Platform, r.Facts) {
						continue
					}
					f.Compliance.Standards = appendUnique(f.Compliance.Standards, ref.Framework)
					f.Compliance.Requirements = appendUnique(f.Compliance.Requirements, ref.Control)
				}
			}
		}
		if len(res.Evidence) > 0 {
			f.Unmapped = map[string]any{"evidence": res.Evidence}
		}
		out = append(out, f)
	}
	return out
}

// platformMatches reports whether a reference for "id:major" ("rhel:9")
// applies to the host: same id or listed in ID_LIKE, and same major version.
func platformMatches(ref string, f Facts) bool {
	refID, refVer, _ := strings.Cut(ref, ":")
	hostID, hostVer, _ := strings.Cut(f.Platform, ":")
	if hostVer != refVer && !strings.HasPrefix(hostVer, refVer+".") {
		return false
	}
	return hostID == refID || slices.Contains(f.IDLike, refID)
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// WriteOCSF writes the findings as a JSON array.
func WriteOCSF(w io.Writer, r *Report, lookup MetaLookup) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(OCSF(r, lookup))
}
