package template

// defaults are the messages sent for the built-in event types when an
// integration has no message_template of its own.
var defaults = map[string]string{
	"order.created":          "New order {{order_id}} for {{amount}} ({{status}})",
	"order.updated":          "Order {{order_id}} updated ({{status}})",
	"order.confirmed":        "Order {{order_id}} confirmed for {{amount}} {{currency}}",
	"order.shipped":          "Order {{order_id}} shipped with {{carrier}}, tracking {{tracking_number}}",
	"order.delivered":        "Order {{order_id}} delivered",
	"order.cancelled":        "Order {{order_id}} cancelled: {{reason}}",
	"payment.received":       "Payment {{payment_id}} of {{amount}} {{currency}} received for order {{order_id}}",
	"invoice.created":        "Invoice {{invoice_number}} created for {{amount}} {{currency}}, due {{due_date}}",
	"inventory.low_stock":    "Low stock: {{product_name}} ({{sku}}) has {{current_stock}} left, threshold {{threshold}}",
	"inventory.out_of_stock": "Out of stock: {{product_name}} ({{sku}})",
	"inventory.restocked":    "Restocked: {{product_name}} ({{sku}}) now has {{current_stock}} in stock",
	"product.created":        "New product {{name}} ({{sku}}) at {{price}} {{currency}}",
	"product.updated":        "Product {{name}} ({{sku}}) updated",
	"customer.created":       "New customer {{first_name}} {{last_name}} ({{email}})",
	"customer.updated":       "Customer {{first_name}} {{last_name}} ({{email}}) updated",
	"customer.deleted":       "Customer {{customer_id}} deleted",
	"customer.subscribed":    "{{email}} subscribed to {{list}}",
}

// Default returns the message template used for an event type when the
// user set none: a sentence for each built-in type, and one naming the
// event for the types tenants register.
func Default(event string) string {
	if t, ok := defaults[event]; ok {
		return t
	}
	return "New " + event + " event"
}
