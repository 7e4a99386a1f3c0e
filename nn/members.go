package nn

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/shenml/shen/tensor"
)

// MembersOf builds the Members of a struct from its exported fields, so a
// custom layer is one struct, one Forward and a one-line Members:
//
//	type SqueezeExcite struct {
//		FC1, FC2 *nn.Linear
//		Gate     *tensor.Tensor `nn:"gate"`
//		Count    *tensor.Tensor `nn:"count,buffer"`
//	}
//
//	func (s *SqueezeExcite) Members() nn.Members { return nn.MembersOf(s) }
//
// s is a pointer to a struct. Fields are taken in declaration order, as
// torch registers attributes in assignment order (and lists parameters
// before children, which StateDict does whatever the order here):
//
//   - *tensor.Tensor: a parameter, or a buffer when tagged `nn:",buffer"`;
//   - any type implementing Module (a layer, or a Module/Layer interface
//     field): a child;
//   - a slice or array of such modules: a child holding them as "0", "1",
//     ... (torch's nn.ModuleList: state-dict keys "blocks.0.weight");
//   - a slice of *tensor.Tensor: a child holding parameters "0", "1", ...
//     (torch's nn.ParameterList);
//   - fields that hold nothing of the kind (sizes, options, the embedded
//     Mode, unexported fields) are not members;
//   - an exported field that holds tensors or modules in a form MembersOf
//     cannot list (a plain struct of layers, a map of them) panics rather
//     than leaving them silently out of the state dict: make it a Module or
//     tag it `nn:"-"`.
//
// A field's name is its `nn:"name"` tag, or else its Go name in torch's
// snake_case (Conv1 → conv1, RunningMean → running_mean, FC → fc);
// `nn:"-"` leaves a field out. It costs one reflection pass over the
// fields each call (the field layout is cached per type), which is nothing
// beside a forward pass; Forward never calls it.
func MembersOf(s any) Members {
	v := reflect.ValueOf(s)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("nn: MembersOf wants a non-nil pointer to a struct, got %T", s))
	}
	v = v.Elem()
	var m Members
	for _, f := range fieldsOf(v.Type()) {
		fv := v.Field(f.index)
		switch f.kind {
		case fieldTensor:
			t, _ := fv.Interface().(*tensor.Tensor)
			if f.buffer {
				m.Buffers = append(m.Buffers, Named[*tensor.Tensor]{f.name, t})
			} else {
				m.Params = append(m.Params, Named[*tensor.Tensor]{f.name, t})
			}
		case fieldModule:
			mod, _ := fv.Interface().(Module)
			m.Children = append(m.Children, Named[Module]{f.name, mod})
		case fieldModuleList:
			list := make(ModuleList, fv.Len())
			for i := range list {
				list[i], _ = fv.Index(i).Interface().(Module)
			}
			m.Children = append(m.Children, Named[Module]{f.name, list})
		case fieldTensorList:
			list := make(ParameterList, fv.Len())
			for i := range list {
				list[i] = fv.Index(i).Interface().(*tensor.Tensor)
			}
			m.Children = append(m.Children, Named[Module]{f.name, list})
		}
	}
	return m
}

// ModuleList holds submodules named "0", "1", ..., like torch's
// nn.ModuleList: a model keeps its blocks in a slice and lists them as one
// child.
type ModuleList []Module

// Members lists the modules as children "0", "1", ...
func (l ModuleList) Members() Members {
	ch := make([]Named[Module], len(l))
	for i, c := range l {
		ch[i] = Named[Module]{strconv.Itoa(i), c}
	}
	return Members{Children: ch}
}

// ParameterList holds parameters named "0", "1", ..., like torch's
// nn.ParameterList.
type ParameterList []*tensor.Tensor

// Members lists the tensors as parameters "0", "1", ...
func (l ParameterList) Members() Members {
	ps := make([]Named[*tensor.Tensor], len(l))
	for i, p := range l {
		ps[i] = Named[*tensor.Tensor]{strconv.Itoa(i), p}
	}
	return Members{Params: ps}
}

type fieldKind int

const (
	fieldTensor fieldKind = iota
	fieldModule
	fieldModuleList
	fieldTensorList
)

type fieldInfo struct {
	index  int
	name   string
	kind   fieldKind
	buffer bool
}

var (
	fieldCache  sync.Map // reflect.Type -> []fieldInfo
	tensorType  = reflect.TypeFor[*tensor.Tensor]()
	moduleIface = reflect.TypeFor[Module]()
)

// fieldsOf returns the member fields of struct type t, computed once.
func fieldsOf(t reflect.Type) []fieldInfo {
	if c, ok := fieldCache.Load(t); ok {
		return c.([]fieldInfo)
	}
	var out []fieldInfo
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("nn")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = snakeCase(sf.Name)
		}
		f := fieldInfo{index: i, name: name, buffer: opts == "buffer"}
		switch ft := sf.Type; {
		case ft == tensorType:
			f.kind = fieldTensor
		case sf.Anonymous && !ft.Implements(moduleIface):
			continue // an embedded helper such as Mode
		case ft.Implements(moduleIface):
			f.kind = fieldModule
		case (ft.Kind() == reflect.Slice || ft.Kind() == reflect.Array) && ft.Elem() == tensorType:
			f.kind = fieldTensorList
		case (ft.Kind() == reflect.Slice || ft.Kind() == reflect.Array) && ft.Elem().Implements(moduleIface):
			f.kind = fieldModuleList
		default:
			if holdsMembers(ft, map[reflect.Type]bool{}) {
				// A plain struct, map or pointer holding layers would be
				// left out of the state dict without a word.
				panic(fmt.Sprintf("nn: MembersOf(%v): field %s of type %v holds tensors or modules that MembersOf cannot list (only *tensor.Tensor, modules, and slices or arrays of them are members); make it a Module, or tag it `nn:\"-\"` to leave it out on purpose", t, sf.Name, ft))
			}
			continue
		}
		if f.buffer && f.kind != fieldTensor {
			panic(fmt.Sprintf("nn: MembersOf(%v): field %s is tagged buffer but is not a *tensor.Tensor", t, sf.Name))
		}
		out = append(out, f)
	}
	fieldCache.Store(t, out)
	return out
}

// holdsMembers reports whether a value of type t can reach a tensor or a
// module (through struct fields, pointers, maps, slices or arrays).
func holdsMembers(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == tensorType || t.Implements(moduleIface) {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return holdsMembers(t.Elem(), seen)
	case reflect.Map:
		return holdsMembers(t.Key(), seen) || holdsMembers(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && holdsMembers(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// snakeCase turns a Go field name into torch's attribute style:
// RunningMean → running_mean, FC → fc, HTTPServer → http_server.
func snakeCase(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) {
			prevLower := i > 0 && (unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1]))
			nextLower := i > 0 && i+1 < len(r) && unicode.IsUpper(r[i-1]) && unicode.IsLower(r[i+1])
			if prevLower || nextLower {
				b.WriteByte('_')
			}
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}
