package plan4

import "regexp"

var pinRe = regexp.MustCompile(`<\{"(\w+)" (\d+) `)

// shorten replaces pinned laws <{"Name" a ...}> by <Name>.
func shorten(s string) string {
	out := []byte{}
	for i := 0; i < len(s); {
		if m := pinRe.FindStringSubmatchIndex(s[i:]); m != nil && m[0] == 0 {
			name := s[i+m[2] : i+m[3]]
			// skip to matching '>'
			depth := 0
			j := i
			for ; j < len(s); j++ {
				if s[j] == '<' {
					depth++
				} else if s[j] == '>' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			out = append(out, "<"+name+">"...)
			i = j + 1
			continue
		}
		out = append(out, s[i])
		i++
	}
	return string(out)
}
