package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// EnvPrefix starts every environment variable that sets a configuration key:
// APPTCONFIRM_<SECTION>_<KEY>, section and key being the YAML names in upper
// case (APPTCONFIRM_SMSCX_API_KEY sets smscx.api_key).
const EnvPrefix = "APPTCONFIRM_"

// Environment variables that share the APPTCONFIRM_ prefix but are not
// configuration keys: the first-start admin account chosen by
// cmd/apptconfirm, and the test and benchmark knobs (APPTCONFIRM_TEST_*,
// APPTCONFIRM_BENCH_*). Load leaves them alone; any other APPTCONFIRM_
// variable that names no key is an error.
const (
	EnvAdminEmail    = "APPTCONFIRM_ADMIN_EMAIL"
	EnvAdminPassword = "APPTCONFIRM_ADMIN_PASSWORD"
	EnvTestPrefix    = "APPTCONFIRM_TEST_"
	EnvBenchPrefix   = "APPTCONFIRM_BENCH_"
)

// isReservedEnv reports whether name is an APPTCONFIRM_ variable that is not
// a configuration key.
func isReservedEnv(name string) bool {
	return name == EnvAdminEmail || name == EnvAdminPassword ||
		strings.HasPrefix(name, EnvTestPrefix) || strings.HasPrefix(name, EnvBenchPrefix)
}

// FieldError is one problem with one configuration key. Load and Validate
// return one or more of them (joined with errors.Join).
type FieldError struct {
	// Source says where the bad value came from: "config.yaml:12" (file and
	// line), "env APPTCONFIRM_DISPATCH_INTERVAL", or "" for a problem found
	// by Validate.
	Source string
	// Key is the dotted key, such as "clinic.timezone" or
	// "reminders.rules[1].before"; "" when the problem is not about one key.
	Key string
	// Problem says what is wrong. It never quotes a secret.
	Problem string
}

// Error formats the problem as "config: [source: ][key: ]problem".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Problem)
	return b.String()
}

// Load builds the configuration: Default, then the YAML file at path (none
// when path is ""), then the APPTCONFIRM_* variables found in environ (in
// os.Environ's "NAME=value" form; nil means none), then Validate.
//
// A missing file at a given path, an unknown key in the file, a key set twice,
// an APPTCONFIRM_ variable that names no key and a value of the wrong type are
// errors. Lists are given in the environment as JSON
// (APPTCONFIRM_REMINDERS_RULES='[{"name":"24h","before":"24h","template":"..."}]')
// or, for lists of strings, comma-separated; quiet hours as
// APPTCONFIRM_REMINDERS_QUIET_HOURS="21:00-08:00" ("" for none). An empty YAML
// value ("addr:") keeps the default.
//
// Load reports every problem it finds at once, joined with errors.Join; each
// is a *FieldError except I/O and YAML syntax errors. On error it returns a
// zero Config.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	var errs []error
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		if err := decodeYAML(path, data, &cfg); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, applyEnv(environ, &cfg)...)
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// decodeYAML decodes one YAML document onto cfg. It walks the document itself
// instead of using yaml.v3's Decoder.KnownFields so that an unknown key, a
// duplicate key or a value of the wrong type is reported with its full dotted
// key and line, including inside list items, and so that every such problem
// is reported, not only the first.
func decodeYAML(path string, data []byte, cfg *Config) error {
	doc, err := parseYAML(path, data)
	if err != nil {
		return err
	}
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil // an empty file, or only comments
		}
		root = root.Content[0]
	}
	if root = resolveAlias(root); isNull(root) {
		return nil
	}
	d := yamlDecoder{path: path}
	if root.Kind != yaml.MappingNode {
		d.fail(root, "", "want a mapping of sections (server:, database:, ...), got %s", describeNode(root))
	} else {
		d.decode(root, reflect.ValueOf(cfg).Elem(), "")
	}
	return errors.Join(d.errs...)
}

// parseYAML parses data, which must hold at most one document, into a node
// tree; an empty stream gives an empty document node.
func parseYAML(path string, data []byte) (doc *yaml.Node, err error) {
	defer func() {
		// yaml.v3 turns its own failures into errors; anything else escaping
		// its parser on hostile input must still not take start-up down with
		// a stack trace.
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("config: %s: cannot parse YAML: %v", path, r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first, second yaml.Node
	if err := dec.Decode(&first); err != nil {
		if errors.Is(err, io.EOF) {
			return &yaml.Node{Kind: yaml.DocumentNode}, nil
		}
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	if err := dec.Decode(&second); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
		return nil, &FieldError{
			Source:  fmt.Sprintf("%s:%d", path, second.Line),
			Problem: "the file must hold one YAML document, found a second one",
		}
	}
	return &first, nil
}

// yamlDecoder decodes a YAML node tree onto the Config struct tree, strictly,
// collecting every problem.
type yamlDecoder struct {
	path string
	errs []error
}

func (d *yamlDecoder) fail(n *yaml.Node, key, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{
		Source:  fmt.Sprintf("%s:%d", d.path, n.Line),
		Key:     key,
		Problem: fmt.Sprintf(format, args...),
	})
}

var yamlUnmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// decode stores node n into v, the field named key. A null node keeps the
// default, except that it empties a list (as yaml.v3 does).
func (d *yamlDecoder) decode(n *yaml.Node, v reflect.Value, key string) {
	n = resolveAlias(n)
	if isNull(n) {
		if v.Kind() == reflect.Slice {
			v.SetZero()
		}
		return
	}
	if reflect.PointerTo(v.Type()).Implements(yamlUnmarshalerType) {
		if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			d.fail(n, key, "%s", err.Error())
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.mapping(n, v, key)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, key, "want a list, got %s", describeNode(n))
			return
		}
		if len(n.Content) == 0 {
			v.SetZero()
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", key, i))
		}
		v.Set(s)
	default:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, key, "want %s, got %s", describeType(v.Type()), describeNode(n))
			return
		}
		if v.Kind() == reflect.String {
			// Any scalar is a valid string, as yaml.v3 has it ("8080" for 8080).
			v.SetString(n.Value)
			return
		}
		tmp := reflect.New(v.Type())
		if err := n.Decode(tmp.Interface()); err != nil {
			// Be lenient with quoted numbers and booleans ("4", "true").
			if err := setScalar(tmp.Elem(), n.Value); err != nil {
				d.fail(n, key, "want %s, got %q", describeType(v.Type()), n.Value)
				return
			}
		}
		v.Set(tmp.Elem())
	}
}

// mapping decodes a YAML mapping onto struct v, refusing unknown and
// duplicate keys.
func (d *yamlDecoder) mapping(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, key, "want a mapping of keys, got %s", describeNode(n))
		return
	}
	fields := yamlFields(v.Type())
	firstLine := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolveAlias(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(k, key, "want a plain key name, got %s", describeNode(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.fail(k, key, "YAML merge keys (<<) are not supported; write the keys out")
			continue
		}
		full := joinKey(key, k.Value)
		f, ok := fields.byName[k.Value]
		if !ok {
			d.fail(k, full, "unknown key%s", suggest(k.Value, fields.names, func(s string) string { return joinKey(key, s) }))
			continue
		}
		if line, dup := firstLine[k.Value]; dup {
			d.fail(k, full, "set twice (first at line %d)", line)
			continue
		}
		firstLine[k.Value] = k.Line
		d.decode(val, v.Field(f), full)
	}
}

// fieldSet maps a struct's YAML key names to field indexes.
type fieldSet struct {
	byName map[string]int
	names  []string // in declaration order
}

func yamlFields(t reflect.Type) fieldSet {
	fs := fieldSet{byName: make(map[string]int, t.NumField())}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !t.Field(i).IsExported() {
			continue
		}
		fs.byName[name] = i
		fs.names = append(fs.names, name)
	}
	return fs
}

func joinKey(parent, name string) string {
	if !isPlainName(name) {
		name = strconv.Quote(name)
	}
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func isPlainName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

// resolveAlias follows an alias (*name) to the node it refers to.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	case yaml.AliasNode:
		return "an alias"
	default:
		return "an empty document"
	}
}

var (
	durationType   = reflect.TypeFor[Duration]()
	quietHoursType = reflect.TypeFor[QuietHours]()
)

// describeType names what a scalar field wants, for error messages.
func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.String:
		return "a string"
	default:
		return t.String()
	}
}

// setting is one configuration key reachable from the environment.
type setting struct {
	key   string // dotted, "smscx.api_key"
	env   string // "APPTCONFIRM_SMSCX_API_KEY"
	index []int  // field path from Config
}

// settings lists every configuration key: each field of each section.
func settings() []setting {
	var out []setting
	ct := reflect.TypeFor[Config]()
	sections := yamlFields(ct)
	for _, section := range sections.names {
		si := sections.byName[section]
		keys := yamlFields(ct.Field(si).Type)
		for _, k := range keys.names {
			out = append(out, setting{
				key:   section + "." + k,
				env:   EnvPrefix + strings.ToUpper(section) + "_" + strings.ToUpper(k),
				index: []int{si, keys.byName[k]},
			})
		}
	}
	return out
}

// applyEnv sets the keys named by APPTCONFIRM_* variables in environ, later
// entries winning, and returns every problem found.
func applyEnv(environ []string, cfg *Config) []error {
	all := settings()
	byEnv := make(map[string]setting, len(all))
	names := make([]string, 0, len(all))
	for _, s := range all {
		byEnv[s.env] = s
		names = append(names, s.env)
	}
	var errs []error
	root := reflect.ValueOf(cfg).Elem()
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix) || isReservedEnv(name) {
			continue
		}
		s, ok := byEnv[name]
		if !ok {
			errs = append(errs, &FieldError{
				Source:  "env " + name,
				Problem: "no such configuration key" + suggest(name, names, func(s string) string { return s }),
			})
			continue
		}
		if err := setFromEnv(root.FieldByIndex(s.index), value); err != nil {
			errs = append(errs, &FieldError{Source: "env " + name, Key: s.key, Problem: err.Error()})
		}
	}
	return errs
}

// setFromEnv parses an environment variable's value into v.
func setFromEnv(v reflect.Value, raw string) error {
	switch {
	case v.Type() == quietHoursType:
		q, err := parseQuietHours(raw)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(q))
		return nil
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		list, err := parseStringList(raw)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			v.SetZero()
		} else {
			v.Set(reflect.ValueOf(list))
		}
		return nil
	case v.Kind() == reflect.Slice:
		tmp := reflect.New(v.Type())
		if err := decodeJSONStrict(raw, tmp.Interface()); err != nil {
			return fmt.Errorf("want a JSON list: %w", err)
		}
		if tmp.Elem().Len() == 0 {
			v.SetZero()
		} else {
			v.Set(tmp.Elem())
		}
		return nil
	default:
		return setScalar(v, raw)
	}
}

// setScalar parses raw into a string, bool, int, int64 or Duration.
func setScalar(v reflect.Value, raw string) error {
	if v.Type() == durationType {
		d, err := ParseDuration(raw)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", raw)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		i, err := strconv.ParseInt(raw, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("want an integer, got %q", raw)
		}
		v.SetInt(i)
	default:
		return fmt.Errorf("cannot set a %s", v.Type())
	}
	return nil
}

// parseStringList reads a JSON list of strings or a comma-separated list;
// "" is the empty list.
func parseStringList(raw string) ([]string, error) {
	trimmed := strings.TrimSpace(raw)
	if strings.HasPrefix(trimmed, "[") {
		var list []string
		if err := decodeJSONStrict(trimmed, &list); err != nil {
			return nil, fmt.Errorf("want a JSON list of strings: %w", err)
		}
		return list, nil
	}
	var list []string
	for item := range strings.SplitSeq(raw, ",") {
		if item = strings.TrimSpace(item); item != "" {
			list = append(list, item)
		}
	}
	return list, nil
}

// parseQuietHours reads "HH:MM-HH:MM", a JSON object {"start", "end"}, or ""
// for none. The times themselves are checked by Validate.
func parseQuietHours(raw string) (QuietHours, error) {
	trimmed := strings.TrimSpace(raw)
	if trimmed == "" {
		return QuietHours{}, nil
	}
	if strings.HasPrefix(trimmed, "{") {
		var q struct {
			Start string `json:"start"`
			End   string `json:"end"`
		}
		if err := decodeJSONStrict(trimmed, &q); err != nil {
			return QuietHours{}, fmt.Errorf(`want "HH:MM-HH:MM" or {"start": "HH:MM", "end": "HH:MM"}: %w`, err)
		}
		return QuietHours{Start: q.Start, End: q.End}, nil
	}
	start, end, ok := strings.Cut(trimmed, "-")
	if !ok {
		return QuietHours{}, fmt.Errorf(`want "HH:MM-HH:MM" (such as "21:00-08:00") or "" for none, got %q`, raw)
	}
	return QuietHours{Start: strings.TrimSpace(start), End: strings.TrimSpace(end)}, nil
}

// decodeJSONStrict decodes exactly one JSON value, refusing unknown fields.
func decodeJSONStrict(raw string, v any) error {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// suggest returns ` (did you mean "x"?)` for the known name closest to name,
// or "" when none is close.
func suggest(name string, known []string, display func(string) string) string {
	best, bestDist := "", 3
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }
	for _, k := range known {
		d := editDistance(name, k)
		if norm(name) == norm(k) || strings.HasPrefix(name, k+"_") || strings.HasPrefix(name, k+".") {
			d = 0
		}
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", display(best))
}

// editDistance is the Levenshtein distance between a and b, in bytes. Long
// inputs are not compared.
func editDistance(a, b string) int {
	if len(a) > 128 || len(b) > 128 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
