package csvimport

import (
	"errors"
	"fmt"
)

// The kinds of FileError, for errors.Is.
var (
	// ErrEmpty: the file holds no header row.
	ErrEmpty = errors.New("empty file")
	// ErrMissingColumn: no column for a required field, or a mapped
	// column the file does not have.
	ErrMissingColumn = errors.New("missing column")
	// ErrTooManyColumns: the header has more than MaxColumns cells.
	ErrTooManyColumns = errors.New("too many columns")
	// ErrDuplicateColumn: two columns of the header carry the name of the
	// same field, and no mapping says which one counts.
	ErrDuplicateColumn = errors.New("duplicate column")
	// ErrBadHeader: the header row cannot be read as CSV.
	ErrBadHeader = errors.New("unreadable header")
	// ErrBadMapping: the mapping does not fit the file or contradicts
	// itself.
	ErrBadMapping = errors.New("invalid mapping")
	// ErrTooManyBadRows: more than MaxBadRows rows could not be read as
	// CSV; the file is most likely not CSV at all.
	ErrTooManyBadRows = errors.New("too many unreadable rows")
)

// FileError says why a whole file cannot be imported, in words for the
// person who uploaded it. Kind is one of the Err values above; errors.Is
// matches it.
type FileError struct {
	Kind error
	// Field is the field concerned, when there is one (a missing column).
	Field Field
	// Message is the explanation, without the package prefix.
	Message string
}

// Error returns the message with the package prefix.
func (e *FileError) Error() string { return "csvimport: " + e.Message }

// Unwrap returns the kind, so that errors.Is(err, ErrMissingColumn) works.
func (e *FileError) Unwrap() error { return e.Kind }

func fileError(kind error, field Field, format string, args ...any) *FileError {
	return &FileError{Kind: kind, Field: field, Message: fmt.Sprintf(format, args...)}
}

// FieldError is one reason a row is refused: the row's number as a
// spreadsheet shows it (the header is row 1), our name of the field
// concerned ("" for a problem with the row as a whole, such as a quote
// that is not closed), and a message for people.
type FieldError struct {
	Row     int    `json:"row"`
	Field   Field  `json:"field"`
	Message string `json:"message"`
}

// Error returns "row 5: phone: too short for US".
func (e FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("row %d: %s", e.Row, e.Message)
	}
	return fmt.Sprintf("row %d: %s: %s", e.Row, e.Field, e.Message)
}

// columnName names a column as a spreadsheet does: A, B, ..., Z, AA, AB...
func columnName(i int) string {
	name := ""
	for i++; i > 0; i = (i - 1) / 26 {
		name = string(rune('A'+(i-1)%26)) + name
	}
	return name
}
