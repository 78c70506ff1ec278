package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hookd/hookd/client"
)

func ExampleClient_Publish() {
	ctx := context.Background()
	c, err := client.New(server, tokenFor("shop-backend"))
	if err != nil {
		panic(err)
	}
	order := map[string]any{"order_id": "ORD-1", "status": "confirmed", "amount": 150.00}

	first, err := c.Publish(ctx, "order.created", order, client.IdempotencyKey("order-ORD-1-created"))
	if err != nil {
		panic(err)
	}
	fmt.Println(first.Event.Type, first.Duplicate)

	// The same key and body: the first event again, nothing queued.
	again, _ := c.Publish(ctx, "order.created", order, client.IdempotencyKey("order-ORD-1-created"))
	fmt.Println(again.Event.ID == first.Event.ID, again.Duplicate)

	// The same key with another payload is a conflict.
	order["amount"] = 99
	_, err = c.Publish(ctx, "order.created", order, client.IdempotencyKey("order-ORD-1-created"))
	fmt.Println(client.ErrorCode(err))
	// Output:
	// order.created false
	// true true
	// conflict
}

func ExampleClient_PublishBatch() {
	c, _ := client.New(server, tokenFor("batch"))
	res, err := c.PublishBatch(context.Background(), []client.EventInput{
		{Type: "order.created", Payload: map[string]any{"order_id": "B1", "status": "draft", "amount": 1}},
		{Type: "order.created", Payload: map[string]any{"order_id": "B2"}}, // no status, no amount
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Accepted, res.Rejected)
	fmt.Println(res.Items[1].Err.Code, res.Items[1].Err.Details[0].Field)
	// Output:
	// 1 1
	// validation_error payload.amount
}

func ExampleError() {
	c, _ := client.New(server, tokenFor("errors"))
	_, err := c.CreateWebhook(context.Background(), client.WebhookInput{
		Name: client.String("orders"), URL: client.String("ftp://example.com"), Events: []string{"order.created"},
	})
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Code)
		for _, d := range e.Details {
			fmt.Println(d.Field+":", d.Message)
		}
	}
	// Output:
	// 422 validation_error
	// url: must use http or https
}

func ExampleClient_CreateWebhook() {
	ctx := context.Background()
	c, _ := client.New(server, tokenFor("webhooks"))
	url, stop := receiver(func(*http.Request, []byte) {})
	defer stop()

	wh, err := c.CreateWebhook(ctx, client.WebhookInput{
		Name: client.String("order_notifications"), URL: client.String(url), Events: []string{"order.created", "order.updated"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(wh.Name, wh.IsActive, len(wh.Secret) > len("whsec_"))

	wh, _ = c.UpdateWebhook(ctx, wh.ID, client.WebhookInput{IsActive: client.Bool(false)})
	fmt.Println("active:", wh.IsActive)

	rotated, _ := c.RotateSecret(ctx, wh.ID)
	fmt.Println("rotated:", rotated.WebhookID == wh.ID)

	test, _ := c.TestWebhook(ctx, wh.ID)
	fmt.Println("test:", test.Status, *test.ResponseCode)

	list, _ := c.ListWebhooks(ctx, client.ListWebhooksOptions{})
	fmt.Println("listed:", list.Total)

	_ = c.DeleteWebhook(ctx, wh.ID)
	_, err = c.GetWebhook(ctx, wh.ID)
	fmt.Println(client.ErrorCode(err))
	// Output:
	// order_notifications true true
	// active: false
	// rotated: true
	// test: success 200
	// listed: 1
	// not_found
}

func ExampleClient_ListLogs() {
	ctx := context.Background()
	c, _ := client.New(server, tokenFor("logs"))
	delivered := make(chan struct{}, 4)
	url, stop := receiver(func(*http.Request, []byte) { delivered <- struct{}{} })
	defer stop()
	wh, _ := c.CreateWebhook(ctx, client.WebhookInput{Name: client.String("logs"), URL: client.String(url), Events: []string{"order.*"}})
	if _, err := c.Publish(ctx, "order.created", map[string]any{"order_id": "L1", "status": "confirmed", "amount": 5}); err != nil {
		panic(err)
	}
	<-delivered

	var logs *client.LogList
	for i := 0; i < 100; i++ { // the attempt is recorded just after the answer
		logs, _ = c.ListLogs(ctx, wh.ID, client.ListLogsOptions{Status: "success"})
		if logs.Total == 1 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Println(logs.Total, logs.Logs[0].Event, logs.Logs[0].Status)

	one, _ := c.GetLog(ctx, wh.ID, logs.Logs[0].ID)
	fmt.Println("attempts:", len(one.Attempts))

	if _, err := c.RetryLog(ctx, wh.ID, one.ID); err != nil {
		panic(err)
	}
	<-delivered
	fmt.Println("delivered again")
	// Output:
	// 1 order.created success
	// attempts: 1
	// delivered again
}

func ExampleVerifier() {
	ctx := context.Background()
	c, _ := client.New(server, tokenFor("receiver"))
	results := make(chan error, 1)
	var verifier *client.Verifier
	url, stop := receiver(func(r *http.Request, body []byte) {
		results <- verifier.Verify(body, r.Header) // in a receiver: answer 401 when it fails
	})
	defer stop()
	wh, _ := c.CreateWebhook(ctx, client.WebhookInput{Name: client.String("verified"), URL: client.String(url), Events: []string{"order.created"}})
	verifier = client.NewVerifier(wh.Secret)

	_, _ = c.Publish(ctx, "order.created", map[string]any{"order_id": "V1", "status": "confirmed", "amount": 1})
	fmt.Println("verified:", <-results == nil)

	// Another secret, or a delivery replayed later, is refused.
	forged := client.NewVerifier("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	h := http.Header{"Webhook-Id": {"msg_1"}, "Webhook-Timestamp": {fmt.Sprint(time.Now().Unix())}, "Webhook-Signature": {"v1,AAAA"}}
	fmt.Println(errors.Is(forged.Verify([]byte(`{}`), h), client.ErrNoMatch))
	late := client.NewVerifier(wh.Secret)
	late.Now = func() time.Time { return time.Now().Add(time.Hour) }
	h.Set("Webhook-Timestamp", fmt.Sprint(time.Now().Unix()))
	fmt.Println(errors.Is(late.Verify([]byte(`{}`), h), client.ErrInvalidTimestamp))
	// Output:
	// verified: true
	// true
	// true
}

func ExampleClient_OpenStream() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _ := client.New(server, tokenFor("streamer"))
	st, err := c.OpenStream(ctx, client.StreamOptions{Events: "inventory.*", IdleTimeout: time.Minute})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	if _, err := c.Publish(ctx, "inventory.low_stock", map[string]any{"product_id": 1, "sku": "SKU-1", "current_stock": 2, "threshold": 5}); err != nil {
		panic(err)
	}
	ev, err := st.Next()
	if err != nil {
		panic(err)
	}
	fmt.Println(ev.Type, len(ev.ID) > 4)
	// Output:
	// inventory.low_stock true
}
