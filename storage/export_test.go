package storage

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestUnpackAnswers(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	s := func(v string) *string { return &v }
	cases := []struct {
		name, in string
		want     []StoredAnswer
	}{
		{"empty", `[]`, nil},
		{"sqlite", `[["q1","rating5",2,null,null],["q3","text",null,"Long \"wait\"\nthen ok 😊 ñ",null]]`,
			[]StoredAnswer{{Question: "q1", Type: "rating5", Num: n(2)}, {Question: "q3", Type: "text", Text: s("Long \"wait\"\nthen ok 😊 ñ")}}},
		{"postgres spacing", `[["q2", "multi", null, null, "[\"a\",\"b\"]"], ["q4", "nps", -1, null, null]]`,
			[]StoredAnswer{{Question: "q2", Type: "multi", Choices: []string{"a", "b"}}, {Question: "q4", Type: "nps", Num: n(-1)}}},
		{"unicode escape", `[["q3","text",null,"tab\there \u00e9 \\ back",null]]`,
			[]StoredAnswer{{Question: "q3", Type: "text", Text: s("tab\there é \\ back")}}},
		{"empty text", `[["q3","text",null,"",null]]`, []StoredAnswer{{Question: "q3", Type: "text", Text: s("")}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := unpackAnswers(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				gb, _ := json.Marshal(got)
				wb, _ := json.Marshal(c.want)
				t.Errorf("got %s, want %s", gb, wb)
			}
		})
	}
	for _, bad := range []string{``, `[`, `[["q1"]]`, `[["q1","t",x,null,null]]`, `[["q1","t",1,null,null]`, `[["q1","t",1,"unterminated,null]]`} {
		if _, err := unpackAnswers(bad); err == nil {
			t.Errorf("unpackAnswers(%q): no error", bad)
		}
	}
}

func TestDecodeChoices(t *testing.T) {
	cases := map[string][]string{`[]`: {}, `["a"]`: {"a"}, `["a", "b_c"]`: {"a", "b_c"}, `["x\"y"]`: {`x"y`}}
	for in, want := range cases {
		if got := decodeChoices(in); !reflect.DeepEqual(got, want) {
			t.Errorf("decodeChoices(%s): got %q, want %q", in, got, want)
		}
	}
}

func TestUnescapeJSON(t *testing.T) {
	for _, want := range []string{"a\"b", "line\r\nbreak\ttab", `back\slash/`, "é ñ 😊 \u2028", "\x01ctl", "\ufffd"} {
		b, _ := json.Marshal(want) // Go escapes <, >, &, U+2028 and control characters
		got, ok := unescapeJSON(string(b[1 : len(b)-1]))
		if !ok || got != want {
			t.Errorf("unescape %s: got %q, %v", b, got, ok)
		}
	}
	if got, ok := unescapeJSON(`\ud83d\ude0a`); !ok || got != "😊" {
		t.Errorf("surrogate pair: got %q, %v", got, ok)
	}
	for _, bad := range []string{`\`, `\x`, `\u12`, `\uzzzz`} {
		if _, ok := unescapeJSON(bad); ok {
			t.Errorf("unescape %q: no error", bad)
		}
	}
}
