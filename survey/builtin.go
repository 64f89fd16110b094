package survey

// Builtin returns the surveys seeded on first start (SPEC "Question types").
// Each call returns fresh values, so callers may modify them.
func Builtin() []Survey {
	return []Survey{
		{
			Slug: "fft", Version: 1,
			Title: Text{"en": "Tell us about your visit", "es": "Cuéntenos sobre su visita"},
			Questions: []Question{
				{ID: "q1", Type: TypeRating5, Required: true, Text: Text{
					"en": "Overall, how was your experience of our service?",
					"es": "En general, ¿cómo fue su experiencia con nuestro servicio?"}},
				{ID: "q2", Type: TypeText, Intent: IntentPraise, Text: Text{
					"en": "What went well?", "es": "¿Qué salió bien?"}},
				{ID: "q3", Type: TypeText, Intent: IntentImprove, Text: Text{
					"en": "What could we do better?", "es": "¿Qué podríamos hacer mejor?"}},
			},
		},
		{
			Slug: "nps", Version: 1,
			Title: Text{"en": "Would you recommend us?", "es": "¿Nos recomendaría?"},
			Questions: []Question{
				{ID: "q1", Type: TypeNPS, Required: true, Text: Text{
					"en": "How likely are you to recommend us to friends or family?",
					"es": "¿Qué probabilidad hay de que nos recomiende a amigos o familiares?"}},
				{ID: "q2", Type: TypeText, Intent: IntentOpen, Text: Text{
					"en": "What is the main reason for your score?",
					"es": "¿Cuál es el motivo principal de su puntuación?"}},
			},
		},
		{
			Slug: "suggestion", Version: 1,
			Title: Text{"en": "Suggestion box", "es": "Buzón de sugerencias"},
			Questions: []Question{
				{ID: "q1", Type: TypeText, Intent: IntentOpen, Required: true, Text: Text{
					"en": "Your suggestion or comment", "es": "Su sugerencia o comentario"}},
				{ID: "q2", Type: TypeChoice, Text: Text{"en": "What is it about?", "es": "¿De qué se trata?"},
					Options: []Option{
						{ID: "care", Text: Text{"en": "Care and treatment", "es": "Atención y tratamiento"}},
						{ID: "staff", Text: Text{"en": "Staff", "es": "Personal"}},
						{ID: "waiting", Text: Text{"en": "Waiting", "es": "Espera"}},
						{ID: "building", Text: Text{"en": "Building and facilities", "es": "Edificio e instalaciones"}},
						{ID: "other", Text: Text{"en": "Something else", "es": "Otra cosa"}},
					}},
			},
		},
	}
}
