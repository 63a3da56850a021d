package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"apptconfirm/app/clinic"
	"apptconfirm/app/phone"
	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// SMSCXClient is what the SMS.CX settings page needs of the gateway client;
// *smscx.Client implements it.
type SMSCXClient interface {
	Balance(ctx context.Context) (*smscx.Balance, error)
	Send(ctx context.Context, req smscx.SendRequest) (*smscx.SendResponse, error)
}

// PatientReplier delivers an SMS as if a patient had sent it, through the
// app's real webhook; the simulator's fake gateway (*smscxtest.Server)
// implements it.
type PatientReplier interface {
	EmitReceiveSMS(ctx context.Context, from, to, text string) (string, error)
}

// SMSCX configures the SMS.CX settings page (/admin/smscx) and, in
// simulator mode, the "Reply as the patient" form of the appointment page.
type SMSCX struct {
	// Mode is the effective mode, "simulate" or "live" (config.SMSCXMode).
	Mode string
	// BaseURL is the API root the client calls.
	BaseURL string
	// Auth says how the client authenticates, without the secret: "API
	// key", "OAuth2 client credentials (client id …)".
	Auth string
	// Sender is smscx.sender, the "from" of every SMS and the "to" of a
	// simulated reply.
	Sender string
	// WebhookURL is the app's SMS.CX webhook URL, also given as
	// dlrCallbackUrl with each test SMS.
	WebhookURL string
	// Client sends the test SMS and checks the credentials. Required.
	Client SMSCXClient
	// Simulator delivers simulated patient replies; nil in live mode, where
	// the reply route answers 404.
	Simulator PatientReplier
	// CheckTimeout bounds the credentials check; zero means 5s.
	CheckTimeout time.Duration
	// SendTimeout bounds one test SMS or simulated reply; zero means 20s.
	SendTimeout time.Duration
}

// Limits of the SMS.CX forms.
const (
	// testSMSMaxChars is the longest test SMS: one GSM-7 part.
	testSMSMaxChars = 160
	// testSMSText is the test SMS's default text.
	testSMSText = "apptconfirm test message"
	// replyMaxChars is the longest simulated reply: three GSM-7 parts.
	replyMaxChars = 459
	// defaultCheckTimeout bounds the Balance call of the settings page.
	defaultCheckTimeout = 5 * time.Second
	// defaultSMSCXSendTimeout bounds a test SMS or a simulated reply.
	defaultSMSCXSendTimeout = 20 * time.Second
)

// smscxPages serves the SMS.CX settings page and the simulator's reply form.
type smscxPages struct {
	s *Server
	d SMSCX
}

// newSMSCXPages serves the SMS.CX settings page (admins) and the
// simulator's reply route (staff) for d.
func newSMSCXPages(s *Server, d SMSCX) *smscxPages {
	if d.CheckTimeout <= 0 {
		d.CheckTimeout = defaultCheckTimeout
	}
	if d.SendTimeout <= 0 {
		d.SendTimeout = defaultSMSCXSendTimeout
	}
	return &smscxPages{s: s, d: d}
}

// smscxSettingsData is the SMS.CX settings page.
type smscxSettingsData struct {
	Simulating bool
	Mode       string
	BaseURL    string
	Auth       string
	Sender     string
	WebhookURL string
	Check      smscxCheck
	// Region is the country national numbers are read for.
	Region   string
	Form     testSMSForm
	Errors   models.FieldErrors
	MaxChars int
	// Result is the answer to the test SMS just sent.
	Result *testSMSResult
	// SendError says in words why the test SMS was not sent.
	SendError string
}

// smscxCheck is the outcome of the live credentials check.
type smscxCheck struct {
	OK bool
	// Problem is the class of failure in words: "Bad credentials",
	// "Unreachable", "Rate limited", ...
	Problem string
	// Detail explains it; it never holds a secret.
	Detail   string
	Balance  float64
	Currency string
	Billing  string
	Took     time.Duration
}

// testSMSForm is the test SMS form as typed.
type testSMSForm struct {
	To   string
	Text string
	// IdempotencyID is made when the form is shown, so submitting the same
	// form twice (a double click, a reload) sends one SMS.
	IdempotencyID string
}

// testSMSResult is SMS.CX's answer to a test SMS.
type testSMSResult struct {
	To            string
	MsgID         string
	Status        string
	Parts         int
	Cost          float64
	IdempotencyID string
}

func (h *smscxPages) settings(c *gin.Context) {
	h.page(c, http.StatusOK, h.freshForm(), nil, nil, "")
}

func (h *smscxPages) freshForm() testSMSForm {
	return testSMSForm{Text: testSMSText, IdempotencyID: uuid.NewString()}
}

// page checks the credentials and renders the settings page.
func (h *smscxPages) page(c *gin.Context, status int, f testSMSForm, fe models.FieldErrors, res *testSMSResult, sendErr string) {
	ctx := c.Request.Context()
	d := smscxSettingsData{
		Simulating: h.d.Simulator != nil,
		Mode:       h.d.Mode,
		BaseURL:    h.d.BaseURL,
		Auth:       h.d.Auth,
		Sender:     h.d.Sender,
		WebhookURL: h.d.WebhookURL,
		Check:      h.check(ctx),
		Region:     h.s.defaultRegion(ctx),
		Form:       f,
		Errors:     fe,
		MaxChars:   testSMSMaxChars,
		Result:     res,
		SendError:  sendErr,
	}
	h.s.html(c, status, "smscx", h.s.page(c, "SMS.CX", "admin", d))
}

// check asks SMS.CX for the balance, which proves the credentials work.
func (h *smscxPages) check(ctx context.Context) smscxCheck {
	ctx, cancel := context.WithTimeout(ctx, h.d.CheckTimeout)
	defer cancel()
	start := time.Now()
	b, err := h.d.Client.Balance(ctx)
	took := time.Since(start)
	if took >= time.Millisecond {
		took = took.Round(time.Millisecond)
	} else {
		took = took.Round(time.Microsecond)
	}
	if err != nil {
		problem, detail := explainSMSCX(err, h.d.CheckTimeout)
		h.s.log.WarnContext(ctx, "smscx credentials check failed", slog.String("problem", problem), slog.Any("err", err))
		return smscxCheck{Problem: problem, Detail: detail, Took: took}
	}
	return smscxCheck{OK: true, Balance: b.Balance, Currency: strings.ToUpper(b.Currency), Billing: b.Billing, Took: took}
}

// explainSMSCX puts a failed SMS.CX call into words: a short class and a
// sentence. It never repeats a credential.
func explainSMSCX(err error, timeout time.Duration) (problem, detail string) {
	var ae *smscx.APIError
	var te *smscx.TransportError
	switch {
	case errors.As(err, &te) && te.Timeout, errors.Is(err, context.DeadlineExceeded):
		return "Unreachable", fmt.Sprintf("SMS.CX did not answer within %s.", timeout)
	case errors.As(err, &te):
		return "Unreachable", "Could not connect to SMS.CX (connection refused or reset, DNS or TLS failure). Check smscx.base_url and the network."
	case smscx.IsAuth(err):
		return "Bad credentials", "SMS.CX refused the credentials" + apiStatus(err) +
			". Check APPTCONFIRM_SMSCX_API_KEY, or APPTCONFIRM_SMSCX_CLIENT_ID and APPTCONFIRM_SMSCX_CLIENT_SECRET, and the key's permissions."
	case errors.As(err, &ae) && ae.HTTPStatus == http.StatusTooManyRequests:
		if at, ok := smscx.RetryAt(err); ok {
			return "Rate limited", "SMS.CX asks to wait until " + at.UTC().Format("15:04:05") + " UTC."
		}
		return "Rate limited", "SMS.CX asks to slow down; try again in a minute."
	case smscx.IsInsufficientCredit(err):
		return "Insufficient credit", "The SMS.CX account has no credit left" + apiStatus(err) + ". Top it up in the SMS.CX dashboard."
	case smscx.IsInvalidNumber(err):
		return "Invalid number", "SMS.CX refused the number as invalid" + apiStatus(err) + "."
	case smscx.IsNoCoverage(err):
		return "No coverage", "SMS.CX does not deliver to this destination" + apiStatus(err) + "."
	case errors.As(err, &ae) && ae.HTTPStatus >= 500:
		return "SMS.CX error", "SMS.CX had a server error" + apiStatus(err) + "; try again later."
	case errors.As(err, &ae):
		return "Refused", "SMS.CX refused the request" + apiStatus(err) + "."
	default:
		return "Unexpected answer", "SMS.CX's answer could not be read; the server log has the details."
	}
}

// apiStatus is " (HTTP 401 invalid_api_key, code 1001)" for an APIError.
func apiStatus(err error) string {
	var ae *smscx.APIError
	if !errors.As(err, &ae) {
		return ""
	}
	s := fmt.Sprintf(" (HTTP %d", ae.HTTPStatus)
	if ae.Type != "" {
		s += " " + ae.Type
	}
	if ae.Code != 0 {
		s += fmt.Sprintf(", code %d", ae.Code)
	}
	return s + ")"
}

func (h *smscxPages) testSMS(c *gin.Context) {
	ctx := c.Request.Context()
	f := testSMSForm{To: c.PostForm("to"), Text: c.PostForm("text"), IdempotencyID: c.PostForm("idempotency_id")}
	if _, err := uuid.Parse(f.IdempotencyID); err != nil {
		f.IdempotencyID = uuid.NewString()
	}
	fe := models.FieldErrors{}
	to, err := phone.Normalize(f.To, h.s.defaultRegion(ctx))
	var pe *phone.Error
	switch {
	case errors.As(err, &pe):
		setError(fe, "to", "is not a valid phone number: "+pe.Reason)
	case err != nil:
		setError(fe, "to", "is not a valid phone number")
	}
	text := strings.TrimSpace(f.Text)
	switch {
	case text == "":
		setError(fe, "text", "required")
	case !utf8.ValidString(text):
		setError(fe, "text", "is not valid text")
	case utf8.RuneCountInString(text) > testSMSMaxChars:
		setError(fe, "text", fmt.Sprintf("must be at most %d characters, got %d", testSMSMaxChars, utf8.RuneCountInString(text)))
	}
	if len(fe) > 0 {
		h.page(c, http.StatusUnprocessableEntity, f, fe, nil, "")
		return
	}

	sctx, cancel := context.WithTimeout(ctx, h.d.SendTimeout)
	defer cancel()
	resp, err := h.d.Client.Send(sctx, smscx.SendRequest{
		To:             []string{to},
		From:           h.d.Sender,
		Text:           text,
		IdempotencyID:  f.IdempotencyID,
		DLRCallbackURL: h.d.WebhookURL,
	})
	if err == nil && len(resp.Data) == 0 {
		err = errors.New("smscx: send: the answer lists no message")
	}
	if err != nil {
		problem, detail := explainSMSCX(err, h.d.SendTimeout)
		h.s.log.WarnContext(ctx, "smscx test sms failed", slog.String("to", smscx.MaskPhone(to)),
			slog.String("problem", problem), slog.Any("err", err))
		status := http.StatusUnprocessableEntity
		if smscx.IsRetryable(err) {
			status = http.StatusBadGateway
		}
		// The same form may be sent again: SMS.CX keeps no failed request,
		// and one whose answer was lost is answered from its idempotency store.
		h.page(c, status, f, nil, nil, problem+": "+detail)
		return
	}
	m := resp.Data[0]
	res := &testSMSResult{To: to, MsgID: m.MsgID, Status: m.Status, Parts: m.Parts, Cost: m.Cost, IdempotencyID: f.IdempotencyID}
	detail := fmt.Sprintf("test SMS to %s: %s, msgId %s, %d part(s), cost %.3f", smscx.MaskPhone(to), m.Status, m.MsgID, m.Parts, m.Cost)
	if err := h.s.clinic.RecordAudit(ctx, actorOf(c), "smscx.test_sms", clinic.EntitySetting, 0, detail); err != nil {
		// The SMS is gone already; the page must still say so.
		h.s.log.ErrorContext(ctx, "audit of a test sms failed", slog.Any("err", err))
	}
	next := h.freshForm()
	next.To, next.Text = f.To, f.Text
	h.page(c, http.StatusOK, next, nil, res, "")
}
