package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// TestBrowserImportPage drives the import page in headless Chromium: a
// file in another system's column names is uploaded, its columns are
// guessed (and one is corrected by hand), the preview runs in the
// background with a progress bar that survives a reload, and the import
// does what the preview said. The refused row is listed and downloadable.
func TestBrowserImportPage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromium(t)
	app, base := startBrowserApp(t, "Europe/Paris")
	ctx := context.Background()
	if _, err := app.Clinic.CreateUser(ctx, models.SystemActor(), clinic.UserInput{Email: "front@example.com", Name: "Front Desk", Role: "staff", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}

	// An export of another system: its own column names, a split date and
	// time, one name column, and a column ("Chart") that staff map by hand.
	const rows = 600
	var b strings.Builder
	b.WriteString("Appt ID,Appt Date,Start Time,Patient Name,Mobile,Chart\r\n")
	day := time.Now().AddDate(0, 0, 7)
	for i := 0; i < rows; i++ {
		phone := fmt.Sprintf("+1202555%04d", i)
		if i == 17 {
			phone = "12" // refused
		}
		fmt.Fprintf(&b, "X-%d,%s,%d:%02d,\"Lee, Ann%d\",%s,C-%d\r\n", i, day.Format("2006-01-02"), 8+i%10, i%60, i, phone, i)
	}
	path := filepath.Join(t.TempDir(), "day sheet.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	bctx := newChromium(t, exe, 1280, 1800)
	err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`input[name="email"]`),
		chromedp.SendKeys(`input[name="email"]`, "front@example.com"),
		chromedp.SendKeys(`input[name="password"]`, "correct horse battery"),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#rates-chart`),
		chromedp.Navigate(base+"/imports"),
		chromedp.WaitVisible(`#f-file`),
		chromedp.SetUploadFiles(`#f-file`, []string{path}),
		chromedp.Submit(`#f-file`),
		chromedp.WaitVisible(`#import-mapping`),
	)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	// The guess: the usual names are found, "Chart" is not.
	for sel, want := range map[string]string{
		"#col-external_id": "0", "#col-date": "1", "#col-time": "2", "#col-name": "3", "#col-phone": "4", "#col-patient_external_id": "-1",
	} {
		got, err := chromedp.Run(bctx, chromedp.Value(sel))
		if err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", sel, got, err, want)
		}
	}
	err = chromedp.Do(bctx,
		chromedp.SetValue(`#col-patient_external_id`, "5"),
		chromedp.Click(`#import-preview-button`),
		chromedp.WaitVisible(`#import-progress`),
	)
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	// A reload in the middle finds the job where it is, or done.
	if err := chromedp.Do(bctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	poll(t, bctx, "the progress bar or the preview after a reload",
		`!!document.getElementById("import-progress") || !!document.getElementById("import-preview")`)
	poll(t, bctx, "the preview", `!!document.getElementById("import-preview")`)
	appointments := func() int64 {
		var n int64
		if err := app.Store.DB(ctx).Model(&models.Appointment{}).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	count := func(id string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Text("#"+id))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if c, r := count("count-created"), count("count-refused"); c != fmt.Sprint(rows-1) || r != "1" {
		t.Errorf("preview: %s new, %s refused", c, r)
	}
	if n := appointments(); n != 0 {
		t.Fatalf("the preview wrote %d appointments", n)
	}
	refused, err := chromedp.Run(bctx, chromedp.Text(`#import-refused tbody`))
	if err != nil || !strings.Contains(refused, "19") || !strings.Contains(refused, "phone") {
		t.Errorf("refused rows %q (%v)", refused, err)
	}

	if err := chromedp.Do(bctx, chromedp.Click(`#import-apply`)); err != nil {
		t.Fatal(err)
	}
	poll(t, bctx, "the import's result", `!!document.getElementById("import-result")`)
	if c := count("count-created"); c != fmt.Sprint(rows-1) {
		t.Errorf("imported %s", c)
	}
	if n := appointments(); n != rows-1 {
		t.Errorf("%d appointments after the import, want %d", n, rows-1)
	}
	var p models.Patient
	if err := app.Store.DB(ctx).Where("external_id = ?", "C-3").Take(&p).Error; err != nil || p.FirstName != "Ann3" || p.LastName != "Lee" {
		t.Errorf("patient C-3 %+v (%v)", p, err)
	}

	// The mapping is remembered: the next file is mapped as this one.
	err = chromedp.Do(bctx,
		chromedp.Navigate(base+"/imports"),
		chromedp.WaitVisible(`#f-file`),
		chromedp.SetUploadFiles(`#f-file`, []string{path}),
		chromedp.Submit(`#f-file`),
		chromedp.WaitVisible(`#import-mapping`),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := chromedp.Run(bctx, chromedp.Value(`#col-patient_external_id`)); err != nil || got != "5" {
		t.Errorf("remembered patient id column %q (%v)", got, err)
	}
}
