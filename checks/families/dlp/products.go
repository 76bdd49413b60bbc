package dlp

import (
	"fmt"
	"slices"
	"strings"
)

// product is one DLP product as configured in the products parameter. It
// counts as present when every part that is listed holds: one of Packages is
// installed (at MinVersion or later), one of Services is enabled and not
// masked, and one of Processes is running.
type product struct {
	Name       string
	Packages   []string
	Services   []string
	Processes  []string
	MinVersion string
}

// productFields are the keys a product mapping may hold, in the order the
// documentation gives them.
const productFields = "name, packages, services, processes, min_version"

// parseProducts validates the products parameter as decoded from YAML or
// JSON: a list of mappings. Errors name the product's index (from 0, as the
// list is written), its name when known, and the field, so that the baseline
// author can find the mistake.
func parseProducts(v any) ([]product, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("products: want a list of products, got %s", describe(v))
	}
	out := make([]product, 0, len(list))
	seen := map[string]int{}
	for i, item := range list {
		pr, err := parseProduct(fmt.Sprintf("products[%d]", i), item)
		if err != nil {
			return nil, err
		}
		if j, dup := seen[pr.Name]; dup {
			return nil, fmt.Errorf("products[%d] (%q): name is also used by products[%d]; give each product its own name", i, pr.Name, j)
		}
		seen[pr.Name] = i
		out = append(out, pr)
	}
	return out, nil
}

// parseProduct parses one list item; at is its place in the list,
// "products[2]".
func parseProduct(at string, item any) (product, error) {
	var pr product
	m, err := asMapping(item)
	if err != nil {
		return pr, fmt.Errorf("%s: %w", at, err)
	}
	raw, ok := m["name"]
	if !ok {
		return pr, fmt.Errorf("%s: name is required", at)
	}
	name, ok := raw.(string)
	if !ok {
		return pr, fmt.Errorf("%s.name: want a string, got %s", at, describe(raw))
	}
	if pr.Name = strings.TrimSpace(name); pr.Name == "" {
		return pr, fmt.Errorf("%s.name: must not be empty", at)
	}
	at = fmt.Sprintf("%s (%q)", at, pr.Name)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := m[k]
		switch k {
		case "name":
		case "packages":
			pr.Packages, err = stringList(v)
		case "services":
			pr.Services, err = stringList(v)
		case "processes":
			pr.Processes, err = stringList(v)
		case "min_version":
			pr.MinVersion, err = version(v)
		default:
			return pr, fmt.Errorf("%s: unknown field %q (known: %s)", at, k, productFields)
		}
		if err != nil {
			return pr, fmt.Errorf("%s: %s: %w", at, k, err)
		}
	}
	if len(pr.Packages) == 0 && len(pr.Services) == 0 && len(pr.Processes) == 0 {
		return pr, fmt.Errorf("%s: list at least one of packages, services or processes, or the product can never be found", at)
	}
	if pr.MinVersion != "" && len(pr.Packages) == 0 {
		return pr, fmt.Errorf("%s: min_version: needs packages, whose installed version it is compared with", at)
	}
	return pr, nil
}

// version accepts a non-empty version string.
func version(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("want a string, got %s (quote versions in YAML, e.g. \"2.10\", so that they are not read as numbers)", describe(v))
	}
	if s = strings.TrimSpace(s); s == "" {
		return "", fmt.Errorf("must not be empty; leave the field out to accept any version")
	}
	return s, nil
}

// asMapping accepts the mapping shapes YAML and JSON decoders produce.
func asMapping(v any) (map[string]any, error) {
	switch m := v.(type) {
	case map[string]any:
		return m, nil
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, e := range m {
			s, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("field names must be strings, got %s", describe(k))
			}
			out[s] = e
		}
		return out, nil
	default:
		return nil, fmt.Errorf("want a mapping with a name and packages, services or processes, got %s", describe(v))
	}
}

// stringList accepts a list of non-empty strings.
func stringList(v any) ([]string, error) {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case []string:
		for _, s := range x {
			items = append(items, s)
		}
	case string:
		return nil, fmt.Errorf("want a list of strings, got %s (write [%s])", describe(v), x)
	default:
		return nil, fmt.Errorf("want a list of strings, got %s", describe(v))
	}
	out := make([]string, 0, len(items))
	for i, e := range items {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("item %d: want a string, got %s", i, describe(e))
		}
		if s = strings.TrimSpace(s); s == "" {
			return nil, fmt.Errorf("item %d: must not be empty", i)
		}
		out = append(out, s)
	}
	return out, nil
}

// describe names a decoded value's shape for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case map[string]any, map[any]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("the string %q", x)
	default:
		return fmt.Sprintf("%T %v", v, v)
	}
}

// defaultProducts is the shipped product list, in the decoded-YAML shape a
// baseline override has. Only the aegis names are confirmed from vendor
// documentation; the others are best-effort (see README.md), so no package
// names or versions are guessed: a wrong guess in a listed part would make
// an installed agent fail. Operators confirm the names on their own hosts
// and override the list.
func defaultProducts() []any {
	return []any{
		map[string]any{
			"name":      "Forcepoint DLP Endpoint",
			"services":  []any{"wsdlpd"},
			"processes": []any{"wsdlpd"},
		},
		map[string]any{
			"name":      "Symantec DLP Agent (Broadcom)",
			"services":  []any{"edpa"},
			"processes": []any{"edpa", "wdp"},
		},
		map[string]any{
			"name":      "Trellix DLP Endpoint (McAfee DLP)",
			"services":  []any{"fcags"},
			"processes": []any{"fcags", "fcagswd"},
		},
		map[string]any{
			"name":      "Digital Guardian Agent",
			"services":  []any{"dgagent"},
			"processes": []any{"dgagent"},
		},
		map[string]any{
			"name":      "Alibaba Cloud Security Center agent (aegis)",
			"services":  []any{"aegis"},
			"processes": []any{"AliYunDun", "AliYunDunMonitor"},
		},
	}
}
