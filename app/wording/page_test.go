package wording

import (
	"reflect"
	"testing"

	"apptconfirm/app/texts"
)

// The patient page has every text in every shipped language, and each
// language's texts are its own (a text left in English would show).
func TestPageTextsComplete(t *testing.T) {
	en := reflect.ValueOf(Page("en"))
	for _, lang := range texts.Languages() {
		v := reflect.ValueOf(Page(lang))
		if v.FieldByName("Lang").String() != lang {
			t.Fatalf("Page(%q) is in %q", lang, v.FieldByName("Lang").String())
		}
		for i := 0; i < v.NumField(); i++ {
			name := v.Type().Field(i).Name
			s := v.Field(i).String()
			if s == "" {
				t.Errorf("%s: %s is empty", lang, name)
			}
			if lang != "en" && name != "Lang" && s == en.Field(i).String() && len(s) > 8 {
				t.Errorf("%s: %s is the English text %q", lang, name, s)
			}
		}
	}
	if Page("pt-BR").Lang != "pt" || Page("xx").Lang != "en" || Page(" FR ").Lang != "fr" {
		t.Error("languages are not matched as the page asks")
	}
}
