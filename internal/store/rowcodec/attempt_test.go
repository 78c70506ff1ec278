package rowcodec

import "testing"

func TestRequestHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   map[string]string
		want string
	}{
		{nil, "{}"},
		{map[string]string{}, "{}"},
		{map[string]string{"X-B": "2", "Content-Type": "application/json"}, `{"Content-Type":"application/json","X-B":"2"}`},
	}
	for _, tt := range tests {
		if got, err := RequestHeaders(tt.in); got != tt.want || err != nil {
			t.Errorf("RequestHeaders(%v) = %s, %v, want %s", tt.in, got, err, tt.want)
		}
	}
}
