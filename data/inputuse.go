package data

// InputUse says how a fitted pipeline treats one of its input columns: what
// a missing value becomes and which categories its encoder knows. The
// inference layer checks requests against it to tell a client, row by row,
// where an answer rests on an imputed value or an unseen category.
type InputUse struct {
	Field
	// Imputed reports whether an Impute step fills a missing value of the
	// column, with Fill (as text).
	Imputed bool
	Fill    string
	// Categories are the fitted categories of the OneHot or Ordinal step
	// that encodes the column (nil when none does); any other value
	// encodes as "unknown" (all zeros, or the reserved code 0).
	Categories []string
}

// InputUses returns how each input column (in Inputs order) is treated.
// Only steps that read the column under its input name count, which is
// where imputation and encoding of raw inputs happen.
func (p *Pipeline) InputUses() []InputUse {
	uses := make([]InputUse, len(p.inputs))
	at := map[string]int{}
	for i, f := range p.inputs {
		uses[i].Field = f
		at[f.Name] = i
	}
	for _, s := range p.Steps {
		switch st := s.(type) {
		case *imputeStep:
			for k, col := range st.Cols {
				if i, ok := at[col]; ok && !uses[i].Imputed && k < len(st.Values) {
					uses[i].Imputed, uses[i].Fill = true, st.Values[k]
				}
			}
		case *onehotStep:
			setCategories(uses, at, &st.categoryStep)
		case *ordinalStep:
			setCategories(uses, at, &st.categoryStep)
		}
	}
	return uses
}

func setCategories(uses []InputUse, at map[string]int, s *categoryStep) {
	for k, col := range s.Cols {
		if i, ok := at[col]; ok && uses[i].Categories == nil && k < len(s.Categories) {
			uses[i].Categories = s.Categories[k]
		}
	}
}
