package csvimport

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// ourFile is a file in our own format (about 13 MB for 100,000 rows).
func ourFile(rows int) []byte {
	var b bytes.Buffer
	b.WriteString(ourHeader)
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, "APT-%07d,PAT-%06d,Ada,Lovelace,+44 20 7946 %04d,en,Main Street Clinic,Dr Watson,"+
			"2026-12-%02d %02d:%02d,30,\"Bring the referral letter, please\",confirmed\n",
			i, i/3, i%10000, 1+i%28, 8+i%10, (i%4)*15)
	}
	return b.Bytes()
}

// theirFile is a file as another system exports it: other names, a full
// name, a date and a time in two columns, US dates, 12-hour times.
func theirFile(rows int) []byte {
	var b bytes.Buffer
	b.WriteString("Appt ID,MRN,Patient Name,Mobile,Appt Date,Start Time,Length,Doctor,Clinic,Comments,Status\r\n")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, "%d,%d,\"Lovelace, Ada\",(202) 555-%04d,12/%02d/2026,%d:%02d PM,30 min,Dr Watson,Main,"+
			"Bring the referral letter,Booked\r\n", i, i/3, i%10000, 1+i%28, 1+i%11, (i%4)*15)
	}
	return b.Bytes()
}

// BenchmarkRead100k reads 100,000 rows. Memory per row is bounded: one
// allocation per row (the string holding its mapped cells) on our format.
func BenchmarkRead100k(b *testing.B) {
	const rows = 100_000
	for _, bc := range []struct {
		name string
		data []byte
	}{{"ours", ourFile(rows)}, {"theirs", theirFile(rows)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.data)))
			b.ReportAllocs()
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(bc.data), Options{Country: "US"})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					row, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if !row.OK() {
						b.Fatalf("row %d: %v", row.Number, row.Errors)
					}
					n++
				}
				if n != rows {
					b.Fatalf("%d rows", n)
				}
			}
		})
	}
}
