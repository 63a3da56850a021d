// Package imports brings a clinic's schedule in from the CSV files its
// practice-management or EHR system exports: each row becomes an upsert of
// the appointment with the row's external id, through the same paths as
// staff's own changes (clinic.UpsertAppointment), each row atomic.
//
// A file is read twice. The first pass reads it whole without touching
// the database, so that a file that cannot be imported (too large, not
// CSV, a missing column) is refused before any row is written. The second
// pass imports, in batches of rows: the stored appointments a batch names
// are read at once, and a row they show to change nothing is counted as
// unchanged without a query of its own (clinic.UpsertIsNoop); the others
// go through the clinic, each in a savepoint. A preview (dry run) runs the
// second pass too, the whole of it in one transaction that is rolled back
// at the end, so that each row sees what the rows before it did: what it
// reports is what applying the file does. On SQLite, the preview of a file
// larger than one batch runs on a private copy of the database (see
// WithSandbox), so that other writers are not locked out meanwhile.
package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/csvimport"
	"apptconfirm/models"
)

// DefaultDurationMinutes is the length of a new appointment whose row
// gives none.
const DefaultDurationMinutes = 30

// Batch is how many rows share a transaction (each row keeps a savepoint
// of its own).
const Batch = 200

// MaxErrors is the most refused rows a result lists; the counts stay
// exact beyond it.
const MaxErrors = 100000

// Clinic is what an import needs of the clinic service.
type Clinic interface {
	UpsertAppointment(ctx context.Context, actor models.Actor, in clinic.UpsertInput) (*models.Appointment, clinic.UpsertOutcome, error)
	Cancel(ctx context.Context, actor models.Actor, id uint, reason string) (*models.Appointment, error)
	ListLocations(ctx context.Context) ([]models.Location, error)
	ListProviders(ctx context.Context, q clinic.ProviderQuery) ([]models.Provider, error)
	ListTypes(ctx context.Context) ([]models.AppointmentType, error)
}

// Store is what an import needs of the store.
type Store interface {
	Tx(ctx context.Context, fn func(ctx context.Context) error) error
	AppointmentsByExternalID(ctx context.Context, externalIDs []string) (map[string]*models.Appointment, error)
	ActiveExternalAppointments(ctx context.Context, from, to time.Time, locationIDs []uint) ([]models.ExternalAppointment, error)
	Setting(ctx context.Context, key string) (string, error)
	PutSetting(ctx context.Context, key, value string) error
	DropRecordedEvents(ctx context.Context)
	DeferLogs(ctx context.Context)
	HoldMessages(ctx context.Context, on bool)
	FlushMessages(ctx context.Context) error
}

// Service imports files.
type Service struct {
	store  Store
	clinic Clinic
	// sandbox, when set, opens a private copy of the database for the
	// preview of a file larger than one batch.
	sandbox Sandbox
}

// New returns a Service.
func New(store Store, c Clinic) *Service {
	return &Service{store: store, clinic: c}
}

// Sandbox opens a private copy of the database (models.Store.PrivateCopy)
// with a clinic working on it, and returns the function that closes and
// deletes it.
type Sandbox func(ctx context.Context) (Store, Clinic, func() error, error)

// WithSandbox makes the preview of a file larger than one batch run on a
// private copy of the database that sandbox opens, rather than in one
// transaction of the live database. On SQLite, whose writers take turns, a
// preview in the live database would hold its write lock for the whole
// file (minutes for 100,000 rows), and every other writer (webhooks, staff
// booking, the dispatcher) would wait, then fail; on the copy, the live
// database is only read, once, while it is copied. Leave it unset on
// PostgreSQL, where a transaction blocks only the rows it touches.
func (s *Service) WithSandbox(sandbox Sandbox) *Service {
	c := *s
	c.sandbox = sandbox
	return &c
}

// Options says how to import a file.
type Options struct {
	// DryRun previews: the file is imported in one transaction that is
	// rolled back, and the result says what applying would do.
	DryRun bool
	// Sync also cancels the imported appointments (those with an external
	// id) of the locations the file names, starting from the day From to
	// the day To (both included, in each location's zone), that the file
	// no longer lists.
	Sync     bool
	From, To csvimport.Date
	// Mapping says which column holds which field; nil guesses it.
	Mapping *csvimport.Mapping
	// Progress, when set, is told how many rows are done out of how many,
	// after each row of the second pass.
	Progress func(done, total int) `json:"-"`
	// Checkpoint, when set, is called at the end of each batch of an
	// import (not a preview), inside the batch's transaction, after its
	// last Progress: what it writes commits with the batch's rows.
	Checkpoint func(ctx context.Context) error `json:"-"`
}

// Result says what an import did, or, for a dry run, would do.
type Result struct {
	DryRun    bool                   `json:"dry_run"`
	Rows      int                    `json:"rows"`
	Created   int                    `json:"created"`
	Updated   int                    `json:"updated"`
	Unchanged int                    `json:"unchanged"`
	Cancelled int                    `json:"cancelled"`
	Errors    []csvimport.FieldError `json:"errors"`
	// Refused counts the refused rows (Errors lists at most MaxErrors
	// reasons).
	Refused int `json:"refused"`
}

// errRollback ends a preview's transaction.
var errRollback = errors.New("imports: dry run")

// Import imports the CSV file in src, which is read twice (it is rewound
// with Seek). A file that cannot be imported returns a *csvimport.FileError
// (or the reader's error, such as *csvimport.TooLargeError) and imports
// nothing; otherwise every good row is imported and every refused one is
// listed in the result.
func (s *Service) Import(ctx context.Context, actor models.Actor, src io.ReadSeeker, opts Options) (*Result, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return nil, err
	}
	if opts.Sync && dayStart(opts.To).Before(dayStart(opts.From)) {
		return nil, models.FieldErrors{"to": "must not be before from"}
	}
	readOpts := csvimport.Options{Mapping: opts.Mapping, Country: sc.country, PhoneRegion: sc.region}
	// The first pass: the whole file must read before anything is written.
	total, err := countRows(src, readOpts)
	if err != nil {
		return nil, err
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("imports: rewind: %w", err)
	}
	r, err := csvimport.NewReader(src, readOpts)
	if err != nil {
		return nil, err
	}
	run := &run{
		Service: s, actor: actor, sc: sc, opts: opts, res: &Result{DryRun: opts.DryRun, Errors: []csvimport.FieldError{}},
		seen: map[string]int{}, patients: map[string]clinic.PatientInput{}, locations: map[uint]bool{},
		touched: map[uint]bool{},
	}
	if !opts.DryRun {
		if err := run.batches(ctx, r, total); err != nil {
			return nil, err
		}
		if opts.Sync {
			if err := run.sync(ctx); err != nil {
				return nil, err
			}
		}
		return run.res, nil
	}
	// A preview imports the whole file, sync included, in one transaction
	// that is rolled back at the end: each row sees what the rows before
	// it did (a patient an earlier row created or changed), exactly as
	// when the file is applied, and what the preview reports is what
	// applying does. A file larger than one batch does so on a private
	// copy of the database (when the Service has a sandbox), so that the
	// live database's write lock is not held while it runs.
	if s.sandbox != nil && total > Batch {
		st, cl, closeCopy, err := s.sandbox(ctx)
		if err != nil {
			return nil, fmt.Errorf("imports: preview: %w", err)
		}
		defer func() { _ = closeCopy() }()
		// The copy is thrown away: the preview runs there as the import
		// does, batch by batch, each committed, which keeps the copy's
		// log small.
		run.Service, run.private = &Service{store: st, clinic: cl}, true
		if err := run.batches(ctx, r, total); err != nil {
			return nil, err
		}
		if opts.Sync {
			if err := run.sync(ctx); err != nil {
				return nil, err
			}
		}
		return run.res, nil
	}
	err = s.store.Tx(ctx, func(ctx context.Context) error {
		if err := run.batches(ctx, r, total); err != nil {
			return err
		}
		if opts.Sync {
			if err := run.sync(ctx); err != nil {
				return err
			}
		}
		return errRollback
	})
	if err != nil && !errors.Is(err, errRollback) {
		return nil, err
	}
	return run.res, nil
}

// batches runs the rows of r. Rows go in batches, each in one transaction
// where every row has a savepoint of its own: a refused row is rolled back
// alone, and the cost of a commit is shared by the batch. The appointments
// a batch names are read at once beforehand: a row that would change
// nothing is counted without a query of its own. In a preview, ctx carries
// the preview's transaction, which the batches share.
func (rn *run) batches(ctx context.Context, r *csvimport.Reader, total int) error {
	batch := make([]csvimport.Row, 0, Batch)
	for eof := false; !eof; {
		batch = batch[:0]
		for len(batch) < Batch {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				eof = true
				break
			}
			if err != nil {
				// The file changed between the passes.
				return fmt.Errorf("imports: %w", err)
			}
			batch = append(batch, row)
		}
		if len(batch) == 0 {
			break
		}
		do := func(ctx context.Context) error {
			// No row changes a location or a reminder rule: the batch
			// reads each once.
			ctx = models.WithReadCache(ctx)
			// Nor reads the timeline or the audit log: the batch
			// stores their entries together when it commits.
			rn.store.DeferLogs(ctx)
			// Nor, mostly, reads the messages of the batch's other
			// rows: the reminders of the whole batch go in a few
			// multi-row inserts (a row that would read them is done
			// again after they are in; see row).
			rn.store.HoldMessages(ctx, true)
			defer rn.store.HoldMessages(ctx, false)
			if err := rn.preload(ctx, batch); err != nil {
				return err
			}
			for _, row := range batch {
				if err := rn.row(ctx, row); err != nil {
					return err
				}
				if rn.opts.Progress != nil {
					rn.opts.Progress(rn.res.Rows, total)
				}
			}
			if err := rn.store.FlushMessages(ctx); err != nil {
				return fmt.Errorf("imports: %w", err)
			}
			if rn.opts.DryRun {
				// A preview's events, timeline and audit rows are
				// thrown away with its transaction or its copy: they
				// are not stored.
				rn.store.DropRecordedEvents(ctx)
			}
			if rn.opts.Checkpoint != nil && !rn.opts.DryRun {
				return rn.opts.Checkpoint(ctx)
			}
			return nil
		}
		if rn.opts.DryRun && !rn.private {
			if err := do(ctx); err != nil {
				return err
			}
			continue
		}
		if err := rn.store.Tx(ctx, do); err != nil {
			// The batches before this one stay imported.
			return err
		}
	}
	return nil
}

// countRows reads the whole file as the import will, without the
// database, and returns how many rows it has.
func countRows(src io.Reader, opts csvimport.Options) (int, error) {
	r, err := csvimport.NewReader(src, opts)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		n++
	}
}

// scope is what rows are resolved against: the clinic's locations and
// providers, by name.
type scope struct {
	locations   map[string]*models.Location
	defaultLoc  *models.Location
	providers   map[string][]models.Provider
	types       map[string]uint
	country     string
	regionByLoc map[string]string
}

func (s *Service) scope(ctx context.Context) (*scope, error) {
	locs, err := s.clinic.ListLocations(ctx)
	if err != nil {
		return nil, fmt.Errorf("imports: locations: %w", err)
	}
	provs, err := s.clinic.ListProviders(ctx, clinic.ProviderQuery{})
	if err != nil {
		return nil, fmt.Errorf("imports: providers: %w", err)
	}
	sc := &scope{locations: map[string]*models.Location{}, providers: map[string][]models.Provider{}, regionByLoc: map[string]string{}, country: "US"}
	for i := range locs {
		l := &locs[i]
		sc.locations[key(l.Name)] = l
		sc.regionByLoc[key(l.Name)] = l.Country
		if l.IsDefault || sc.defaultLoc == nil {
			sc.defaultLoc = l
		}
	}
	if sc.defaultLoc != nil {
		sc.country = sc.defaultLoc.Country
	}
	for _, p := range provs {
		sc.providers[key(p.Name)] = append(sc.providers[key(p.Name)], p)
	}
	types, err := s.clinic.ListTypes(ctx)
	if err != nil {
		return nil, fmt.Errorf("imports: appointment types: %w", err)
	}
	sc.types = make(map[string]uint, len(types))
	for _, t := range types {
		sc.types[key(t.Name)] = t.ID
	}
	return sc, nil
}

// region is the phone region of a row's location name.
func (sc *scope) region(location string) string {
	if r, ok := sc.regionByLoc[key(location)]; ok {
		return r
	}
	return sc.country
}

// key is how names are compared: case and surrounding spaces aside.
func key(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// run is one import under way.
type run struct {
	*Service
	actor models.Actor
	sc    *scope
	opts  Options
	res   *Result
	// seen maps each external id of the file to its first row.
	seen map[string]int
	// patients holds, by patient external id, the details earlier rows
	// gave, for later rows that give the id alone.
	patients map[string]clinic.PatientInput
	// locations are those the file's rows are at.
	locations map[uint]bool
	// current holds the stored appointments of the batch's external ids.
	current map[string]*models.Appointment
	// private is set for a preview on a private copy of the database,
	// whose batches commit there as an import's do.
	private bool
	// touched holds the patients of the rows imported through the clinic:
	// such a row may have changed its patient since the batch was read.
	touched map[uint]bool
}

// preload reads the stored appointments the rows of a batch name.
func (rn *run) preload(ctx context.Context, rows []csvimport.Row) error {
	ids := make([]string, 0, len(rows))
	for _, row := range rows {
		if ext := strings.TrimSpace(row.ExternalID); ext != "" {
			ids = append(ids, ext)
		}
	}
	cur, err := rn.store.AppointmentsByExternalID(ctx, ids)
	if err != nil {
		return fmt.Errorf("imports: %w", err)
	}
	rn.current = cur
	return nil
}

// refuse records a refused row.
func (rn *run) refuse(errs ...csvimport.FieldError) {
	rn.res.Refused++
	for _, e := range errs {
		if len(rn.res.Errors) < MaxErrors {
			rn.res.Errors = append(rn.res.Errors, e)
		}
	}
}

// row imports one row.
func (rn *run) row(ctx context.Context, row csvimport.Row) error {
	rn.res.Rows++
	if row.ExternalID != "" {
		if first, dup := rn.seen[row.ExternalID]; dup {
			rn.refuse(csvimport.FieldError{
				Row: row.Number, Field: csvimport.FieldExternalID,
				Message: fmt.Sprintf("appears already in row %d", first),
			})
			return nil
		}
		rn.seen[row.ExternalID] = row.Number
	}
	in, loc, errs := rn.input(row)
	if loc != nil {
		rn.locations[loc.ID] = true
	}
	if len(errs) > 0 {
		rn.refuse(errs...)
		return nil
	}
	cur := rn.current[strings.TrimSpace(in.ExternalID)]
	if cur != nil && !rn.touched[cur.PatientID] && clinic.UpsertIsNoop(cur, in) {
		rn.res.Unchanged++
		return nil
	}
	// Read with the batch, in its transaction; no other row has this
	// external id.
	in.Absent = cur == nil
	// UpsertAppointment works in a savepoint of the batch's transaction:
	// a refused row leaves nothing behind.
	a, outcome, err := rn.clinic.UpsertAppointment(ctx, rn.actor, in)
	if errors.Is(err, models.ErrMessagesHeld) {
		// The row reads messages (it changes a patient or an
		// appointment that has some, say): its savepoint is rolled
		// back; it goes again once the batch's held reminders are in.
		if err := rn.store.FlushMessages(ctx); err != nil {
			return fmt.Errorf("imports: row %d: %w", row.Number, err)
		}
		rn.store.HoldMessages(ctx, false)
		a, outcome, err = rn.clinic.UpsertAppointment(ctx, rn.actor, in)
		rn.store.HoldMessages(ctx, true)
	}
	if a != nil {
		rn.touched[a.PatientID] = true
	}
	if err != nil {
		if fe, ok := rowErrors(row.Number, err); ok {
			rn.refuse(fe...)
			return nil
		}
		return fmt.Errorf("imports: row %d: %w", row.Number, err)
	}
	switch outcome {
	case clinic.UpsertCreated:
		rn.res.Created++
	case clinic.UpsertUpdated:
		rn.res.Updated++
	case clinic.UpsertCancelled:
		rn.res.Cancelled++
	default:
		rn.res.Unchanged++
	}
	return nil
}

// input turns a row into an upsert, resolving its location, provider and
// type by name; it returns the row's location when it has one.
func (rn *run) input(row csvimport.Row) (clinic.UpsertInput, *models.Location, []csvimport.FieldError) {
	var errs []csvimport.FieldError
	bad := func(f csvimport.Field, msg string) {
		errs = append(errs, csvimport.FieldError{Row: row.Number, Field: f, Message: msg})
	}
	if !row.OK() {
		return clinic.UpsertInput{}, nil, row.Errors
	}
	in := clinic.UpsertInput{ExternalID: row.ExternalID, Source: "import", Status: models.AppointmentStatus(row.Status)}
	loc := rn.sc.defaultLoc
	if row.Location != "" {
		l, ok := rn.sc.locations[key(row.Location)]
		if !ok {
			bad(csvimport.FieldLocation, fmt.Sprintf("no location is named %q", row.Location))
			return in, nil, errs
		}
		loc = l
		in.LocationID = l.ID
	}
	if loc == nil {
		bad(csvimport.FieldLocation, "the clinic has no location yet")
		return in, nil, errs
	}
	if row.Has(csvimport.FieldProvider) {
		in.ProviderSet = true
		if row.Provider != "" {
			p, ok := rn.sc.provider(row.Provider, loc.ID)
			if !ok {
				bad(csvimport.FieldProvider, fmt.Sprintf("no provider is named %q", row.Provider))
			} else {
				in.ProviderID = &p
			}
		}
	}
	if row.Has(csvimport.FieldType) {
		in.TypeSet = true
		if row.Type != "" {
			id, ok := rn.sc.types[key(row.Type)]
			if !ok {
				bad(csvimport.FieldType, fmt.Sprintf("no appointment type is named %q", row.Type))
			} else {
				in.TypeID = &id
			}
		}
	}
	if !row.Start.IsZero() {
		t, err := row.Start.In(loc.Zone())
		switch {
		case errors.Is(err, csvimport.ErrNonexistentTime):
			bad(csvimport.FieldStartsAt, fmt.Sprintf("%s does not exist in %s (the clocks skip it that night)", row.Start.Local, loc.TimeZone))
		case err != nil:
			bad(csvimport.FieldStartsAt, "is not a time that can be booked")
		}
		in.StartsAt = t
	}
	in.DurationMinutes = row.DurationMinutes
	in.DefaultDurationMinutes = DefaultDurationMinutes
	if row.Has(csvimport.FieldNotes) {
		notes := row.Notes
		in.Notes = &notes
	}
	if p := rn.patient(row); p != nil {
		in.Patient = p
	}
	return in, loc, errs
}

// provider finds a provider by name, preferring one of the location, then
// an active one.
func (sc *scope) provider(name string, locationID uint) (uint, bool) {
	ps := sc.providers[key(name)]
	if len(ps) == 0 {
		return 0, false
	}
	best, score := ps[0].ID, -1
	for _, p := range ps {
		s := 0
		if p.LocationID == nil || *p.LocationID == locationID {
			s += 2
		}
		if p.Active {
			s++
		}
		if s > score {
			best, score = p.ID, s
		}
	}
	return best, true
}

// patient is the row's patient, completed from earlier rows of the same
// patient external id; nil when the row says nothing of the patient.
func (rn *run) patient(row csvimport.Row) *clinic.PatientInput {
	phone := row.PhoneE164
	if phone == "" {
		phone = row.Phone
	}
	p := clinic.PatientInput{
		FirstName: row.FirstName, LastName: row.LastName, Phone: phone,
		Language: row.Language, ExternalID: row.PatientExternalID,
	}
	if ext := row.PatientExternalID; ext != "" {
		prev := rn.patients[ext]
		if p.FirstName == "" && p.LastName == "" {
			p.FirstName, p.LastName = prev.FirstName, prev.LastName
		}
		if p.Phone == "" {
			p.Phone = prev.Phone
		}
		if p.Language == "" {
			p.Language = prev.Language
		}
		rn.patients[ext] = p
	}
	if p == (clinic.PatientInput{}) {
		return nil
	}
	return &p
}

// rowErrors turns the clinic's refusal of a row into the row's errors,
// named by the file's fields.
func rowErrors(rowNumber int, err error) ([]csvimport.FieldError, bool) {
	var bt *models.ErrBadTransition
	if errors.As(err, &bt) {
		return []csvimport.FieldError{{Row: rowNumber, Field: csvimport.FieldStatus, Message: bt.Error()}}, true
	}
	fe, ok := models.AsFieldErrors(err)
	if !ok {
		return nil, false
	}
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []csvimport.FieldError
	for _, k := range keys {
		msg := fe[k]
		if msg == clinic.PastStartMessage {
			msg = "is in the past"
		}
		out = append(out, csvimport.FieldError{Row: rowNumber, Field: fieldOf(k), Message: msg})
	}
	return out, true
}

// fieldOf names a clinic field as the file does.
func fieldOf(k string) csvimport.Field {
	switch k {
	case "patient.first_name":
		return csvimport.FieldFirstName
	case "patient.last_name":
		return csvimport.FieldLastName
	case "patient.phone":
		return csvimport.FieldPhone
	case "patient.language":
		return csvimport.FieldLanguage
	case "patient.external_id", "patient_id":
		return csvimport.FieldPatientExternalID
	case "location_id":
		return csvimport.FieldLocation
	case "provider_id":
		return csvimport.FieldProvider
	}
	return csvimport.Field(k)
}

// sync cancels the appointments the file no longer lists.
func (rn *run) sync(ctx context.Context) error {
	for id := range rn.locations {
		loc := rn.sc.byID(id)
		if loc == nil {
			continue
		}
		zone := loc.Zone()
		f, t := rn.opts.From, dayAfter(rn.opts.To)
		from := time.Date(f.Year, f.Month, f.Day, 0, 0, 0, 0, zone)
		to := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, zone)
		gone, err := rn.store.ActiveExternalAppointments(ctx, from, to, []uint{id})
		if err != nil {
			return fmt.Errorf("imports: sync: %w", err)
		}
		for _, a := range gone {
			if _, listed := rn.seen[a.ExternalID]; listed {
				continue
			}
			_, err := rn.clinic.Cancel(ctx, rn.actor, a.ID, "no longer in the imported schedule")
			var bt *models.ErrBadTransition
			switch {
			case errors.As(err, &bt):
				// Changed meanwhile (the patient cancelled, say): nothing to do.
				continue
			case err != nil:
				return fmt.Errorf("imports: sync: %w", err)
			}
			rn.res.Cancelled++
		}
	}
	return nil
}

func (sc *scope) byID(id uint) *models.Location {
	for _, l := range sc.locations {
		if l.ID == id {
			return l
		}
	}
	return nil
}

// dayStart is midnight of d, as a calendar date (UTC stands for "no zone").
func dayStart(d csvimport.Date) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// dayAfter is midnight of the day after d.
func dayAfter(d csvimport.Date) time.Time { return dayStart(d).AddDate(0, 0, 1) }

// mappingSetting is the setting that remembers the last mapping.
const mappingSetting = "import.mapping"

// SavedMapping returns the mapping the last import used, or nil when there
// is none (or it no longer reads).
func (s *Service) SavedMapping(ctx context.Context) (*csvimport.Mapping, error) {
	raw, err := s.store.Setting(ctx, mappingSetting)
	switch {
	case errors.Is(err, models.ErrNotFound) || (err == nil && raw == ""):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("imports: saved mapping: %w", err)
	}
	m, err := csvimport.ParseMapping([]byte(raw))
	if err != nil {
		// A mapping from an older version: guessing again is fine.
		return nil, nil
	}
	return &m, nil
}

// SaveMapping remembers m for the next file.
func (s *Service) SaveMapping(ctx context.Context, m csvimport.Mapping) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("imports: save mapping: %w", err)
	}
	if err := s.store.PutSetting(ctx, mappingSetting, string(data)); err != nil {
		return fmt.Errorf("imports: save mapping: %w", err)
	}
	return nil
}

// Spool copies an upload into a temporary file, refusing more than max
// bytes with a *csvimport.TooLargeError, so that an import can read it
// twice without holding it in memory. The caller closes the file, which
// removes it.
func Spool(r io.Reader, max int64) (*File, error) {
	f, err := os.CreateTemp("", "apptconfirm-import-*.csv")
	if err != nil {
		return nil, fmt.Errorf("imports: spool: %w", err)
	}
	file := &File{File: f}
	n, err := io.Copy(f, csvimport.LimitReader(r, max))
	if err != nil {
		_ = file.Close()
		var tl *csvimport.TooLargeError
		if errors.As(err, &tl) {
			return nil, err
		}
		return nil, fmt.Errorf("imports: spool: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		_ = file.Close()
		return nil, fmt.Errorf("imports: spool: %w", err)
	}
	file.Size = n
	return file, nil
}

// File is a spooled upload.
type File struct {
	*os.File
	// Size is the upload's length in bytes.
	Size int64
}

// Close closes and removes the file.
func (f *File) Close() error {
	err := f.File.Close()
	if rerr := os.Remove(f.Name()); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}
