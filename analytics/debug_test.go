package analytics

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestDebugPrint(t *testing.T) {
	if os.Getenv("CV_DEBUG") == "" {
		t.Skip()
	}
	a, _ := New()
	for _, line := range strings.Split(os.Getenv("CV_DEBUG"), "|") {
		in, text, _ := strings.Cut(line, ":")
		r := a.Analyze(text, Intent(in))
		fmt.Printf("%-8s %-60q %s %.2f %v\n", in, text, r.Sentiment, r.Score, r.Themes)
	}
}
