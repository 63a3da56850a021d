package analytics

import (
	"fmt"
	"io"
	"strconv"

	"apptconfirm/app/csvout"
)

// ErrUnknownBreakdown is returned for a CSV of a breakdown that does not
// exist.
var ErrUnknownBreakdown = fmt.Errorf("analytics: the breakdown must be one of %v", BreakdownNames)

// rateCells writes a rate as its two counts and its value ("" without a
// denominator, so that a spreadsheet does not read a missing rate as 0).
func rateCells(r Rate) []string {
	v := ""
	if x, ok := r.Value(); ok {
		v = strconv.FormatFloat(x, 'f', 4, 64)
	}
	return []string{v}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// countHeader and countCells are the columns every breakdown shares.
var countHeader = []string{
	"appointments reminded", "confirmed", "confirmation rate",
	"cancelled", "cancellation rate", "rescheduled", "reschedule rate",
	"with an outcome", "no-show", "no-show rate",
}

func countCells(c Counts) []string {
	out := []string{itoa(c.Appointments), itoa(c.Confirmed)}
	out = append(out, rateCells(c.Confirmation())...)
	out = append(out, itoa(c.Cancelled))
	out = append(out, rateCells(c.Cancellation())...)
	out = append(out, itoa(c.Rescheduled))
	out = append(out, rateCells(c.Reschedule())...)
	out = append(out, itoa(c.Outcome), itoa(c.NoShow))
	return append(out, rateCells(c.NoShowRate())...)
}

// WriteCSV writes one breakdown of rep (one of BreakdownNames) as CSV,
// every cell neutralised against spreadsheet formulas. Rates are
// fractions with four decimals, empty when there is nothing to divide by.
func WriteCSV(w io.Writer, rep *Report, breakdown string) error {
	if !ValidBreakdown(breakdown) {
		return ErrUnknownBreakdown
	}
	cw := csvout.NewWriter(w, csvout.Options{BOM: true})
	if breakdown == ByReminder {
		head := append([]string{"reminder rule", "when", "sent", "delivered", "delivery rate"}, countHeader...)
		if err := cw.Write(append(head, "ranked")); err != nil {
			return err
		}
		for _, r := range rep.Reminders {
			row := append([]string{r.Name, r.Offset, itoa(r.Sent), itoa(r.Delivered)}, rateCells(r.Delivery())...)
			row = append(row, countCells(r.Counts)...)
			ranked := "no: fewer than " + strconv.Itoa(MinRanked) + " appointments"
			if r.Ranked {
				ranked = "yes"
			}
			if err := cw.Write(append(row, ranked)); err != nil {
				return err
			}
		}
		return cw.Flush()
	}
	bd, _ := rep.Breakdown(breakdown)
	head := append([]string{bd.Title}, countHeader...)
	refill := breakdown == ByProvider || breakdown == ByLocation || breakdown == ByType
	if refill {
		head = append(head, "freed appointments offered", "refilled", "refill rate")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range bd.Rows {
		row := append([]string{r.Label}, countCells(r.Counts)...)
		if refill {
			row = append(row, itoa(r.Refill.D), itoa(r.Refill.N))
			row = append(row, rateCells(r.Refill)...)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	return cw.Flush()
}
