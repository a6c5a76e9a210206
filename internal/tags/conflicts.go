package tags

import "sort"

// Conflicts flags disagreement among the tags of one address or one
// cluster (the caller decides which tags belong together). It never picks a
// winner: it names what disagrees and which tags say so.
//
//   - category: two specific entity categories of which neither is a kind
//     of the other, e.g. exchange vs mixing_service. Generic ones (entity,
//     organization, user, service, unknown) agree with anything, and so do
//     concepts related in the taxonomy (exchange, service); usage concepts
//     (cold_wallet, coinjoin, deployer, ...) are not entity categories.
//   - abuse: two activities neither of which is a kind of the other, e.g.
//     ransomware vs ponzi_scheme (extortion and ransomware agree). List
//     memberships (sanction, black_list, gov_black_list) agree with anything.
//   - category-abuse: a legitimate service (exchange, wallet service,
//     payment processor, mining, DeFi, ..., a victim, a white list) on one
//     side and a criminal activity (any abuse except list memberships) on
//     the other, e.g. exchange vs ransomware.
//   - actor: different actors.
//
// The category and abuse of one tag are both taken into account, whichever
// field holds a concept; only claims of different tags can conflict. Each
// conflict lists the indexes of the tags
// involved and the names of their packs.
func Conflicts(tags []Tag) []Conflict {
	type claim struct {
		value string
		tag   int
	}
	var cats, legit, abuses, actors []claim
	for i, t := range tags {
		for _, c := range append([]string{t.Category, t.Abuse}, t.Concepts...) {
			switch {
			case c == "" || !IsConcept(c):
			case isAbuse(c):
				if !listConcepts[c] {
					abuses = append(abuses, claim{c, i})
				}
			case genericEntities[c]:
			case isA(c, "entity") || isA(c, "item"):
				cats = append(cats, claim{c, i})
				if isLegitimateService(c) {
					legit = append(legit, claim{c, i})
				}
			case isLegitimateService(c): // a white list
				legit = append(legit, claim{c, i})
			}
		}
		if t.Actor != "" {
			actors = append(actors, claim{t.Actor, i})
		}
	}
	var out []Conflict
	emit := func(kind string, a, b []claim, clash func(x, y string) bool) {
		values := map[string]bool{}
		idx := map[int]bool{}
		for _, x := range a {
			for _, y := range b {
				if x.tag != y.tag && clash(x.value, y.value) {
					values[x.value], values[y.value] = true, true
					idx[x.tag], idx[y.tag] = true, true
				}
			}
		}
		if len(values) == 0 {
			return
		}
		c := Conflict{Kind: kind}
		for v := range values {
			c.Values = append(c.Values, v)
		}
		sort.Strings(c.Values)
		packs := map[string]bool{}
		for i := range idx {
			c.Tags = append(c.Tags, i)
			packs[tags[i].Pack.Name] = true
		}
		sort.Ints(c.Tags)
		for p := range packs {
			c.Packs = append(c.Packs, p)
		}
		sort.Strings(c.Packs)
		out = append(out, c)
	}
	unrelated := func(x, y string) bool { return x != y && !isA(x, y) && !isA(y, x) }
	emit(ConflictCategory, cats, cats, unrelated)
	emit(ConflictAbuse, abuses, abuses, unrelated)
	emit(ConflictCategoryAbuse, legit, abuses, func(string, string) bool { return true })
	emit(ConflictActor, actors, actors, func(x, y string) bool { return x != y })
	return out
}
