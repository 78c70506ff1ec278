package filter

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hookd/hookd/internal/hookd"
)

// Validate checks the filter against the event types a webhook subscribes
// to (name → schema fields, wildcards already expanded). Every key, at any
// $or/$and depth, must apply to at least one of them, and its values must
// fit the field's schema type on at least one type it applies to. It
// returns one error per bad key, Field "filters.<key>" (for example
// "filters.min_amount" or "filters.$or.0.amount"); nil when all is well.
func (f *Filter) Validate(subscribed map[string]*Fields) []hookd.FieldError {
	if f.IsEmpty() {
		return nil
	}
	names := make([]string, 0, len(subscribed))
	for name := range subscribed {
		names = append(names, name)
	}
	sort.Strings(names)
	var errs []hookd.FieldError
	f.root.each(func(fc *fieldCond) {
		if msg := fc.check(names, subscribed); msg != "" {
			errs = append(errs, hookd.FieldError{Field: fc.field, Message: msg})
		}
	})
	return errs
}

// check returns what is wrong with one key for the subscribed event types,
// or "".
func (fc *fieldCond) check(names []string, subscribed map[string]*Fields) string {
	var mismatch, badBound string
	applies := 0
	for _, name := range names {
		fields := subscribed[name]
		path, r := fc.resolve(resourceOf(name), fields)
		switch r {
		case readNone:
			continue
		case readBadBound:
			if badBound == "" {
				badBound = fmt.Sprintf("%s is a bound on %q and needs a number, not %s", fc.key, path, fc.value.kind)
			}
			continue
		}
		applies++
		msg := fc.typeCheck(r, path, fields.typeOf(path), name)
		if msg == "" {
			return ""
		}
		if mismatch == "" {
			mismatch = msg
		}
	}
	switch {
	case applies > 0:
		return mismatch
	case badBound != "":
		return badBound
	}
	return fmt.Sprintf("unknown field %q: no subscribed event type defines it (%s)", fc.key, listNames(names))
}

// typeCheck returns why the key's values cannot match the field of type t
// on eventType, or "".
func (fc *fieldCond) typeCheck(r reading, path string, t typeSet, eventType string) string {
	where := fmt.Sprintf("%q is %s on %s", path, t, eventType)
	if r == readBound {
		if t&typeNumeric == 0 {
			return fmt.Sprintf("%s is a numeric bound but %s", fc.key, where)
		}
		return ""
	}
	for i := range fc.tests {
		tst := &fc.tests[i]
		switch tst.op {
		case opEq, opNe:
			if !fits(tst.operand.kind, t) {
				return fmt.Sprintf("value %s is %s but %s", tst.operand.describe(), tst.operand.kind, where)
			}
		case opIn, opNin:
			for j := range tst.list {
				if o := &tst.list[j]; !fits(o.kind, t) {
					return fmt.Sprintf("list value %d (%s) is %s but %s", j, o.describe(), o.kind, where)
				}
			}
		case opGt, opGte, opLt, opLte:
			if !fits(tst.operand.kind, t) {
				name := operatorNames()[tst.op]
				return fmt.Sprintf("%s compares with %s but %s", name, tst.operand.kind, where)
			}
		}
	}
	return ""
}

// fits reports whether a literal of kind k can equal a value of type t.
func fits(k jsonKind, t typeSet) bool {
	if t == typeAny {
		return true
	}
	switch k {
	case kindNull:
		return t&typeNull != 0
	case kindBool:
		return t&typeBoolean != 0
	case kindNumber:
		return t&typeNumeric != 0
	case kindString:
		return t&typeString != 0
	case kindArray:
		return t&typeArray != 0
	case kindObject:
		return t&typeObject != 0
	}
	return false
}

// listNames renders event type names for a message, shortened past five.
func listNames(names []string) string {
	switch {
	case len(names) == 0:
		return "no event types subscribed"
	case len(names) > 5:
		return fmt.Sprintf("subscribed: %s and %d more", strings.Join(names[:5], ", "), len(names)-5)
	}
	return "subscribed: " + strings.Join(names, ", ")
}
