package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

// BenchmarkDecodePublishBatch decodes a batch of 500 ~900-byte events as
// POST /api/events/batch/ does (decodePublish), and as every other
// endpoint decodes its body (decode, encoding/json).
func BenchmarkDecodePublishBatch(b *testing.B) {
	body := []byte(`{"events":[`)
	for i := range 500 {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, `{"event":"order.created","payload":{"order_id":"ORD-`...)
		body = strconv.AppendInt(body, int64(i), 10)
		body = append(body, `","customer":{"id":"cus_1","name":"Benchmark Customer","email":"customer@example.com"},"items":[`...)
		for j := range 5 {
			if j > 0 {
				body = append(body, ',')
			}
			body = append(body, `{"product_id":`...)
			body = strconv.AppendInt(body, int64(j+1), 10)
			body = append(body, `,"name":"Wireless Headphones Deluxe Edition","quantity":1,"price":25.25}`...)
		}
		body = append(body, `],"total":126.25,"currency":"USD","status":"pending"}}`...)
	}
	body = append(body, `]}`...)
	type batch struct {
		Events []hookd.PublishInput `json:"events"`
	}
	for _, bc := range []struct {
		name   string
		decode func(r *http.Request, dst *batch) error
	}{
		{"goccy", func(r *http.Request, dst *batch) error { return decodePublish(r, dst) }},
		{"encoding_json", func(r *http.Request, dst *batch) error { return decode(r, dst) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var in batch
				if err := bc.decode(httptest.NewRequest("POST", "/api/events/batch/", bytes.NewReader(body)), &in); err != nil || len(in.Events) != 500 {
					b.Fatalf("%d events, %v", len(in.Events), err)
				}
			}
		})
	}
}
