package demo

// snippet is a piece of patient comment with the theme it speaks to. The
// demo composes comments from these so that a new user sees varied text
// with the mix of themes real clinics get.
type snippet struct {
	theme string
	en    []string
	es    []string
}

var praise = []snippet{
	{"staff_attitude", []string{
		"The nurse was so kind and made me feel at ease.",
		"Reception staff were friendly and helpful.",
		"Everyone treated my mum with dignity and respect.",
		"Dr. Patel was caring and patient with my questions.",
		"Lovely staff, nothing was too much trouble.",
	}, []string{
		"La enfermera fue muy amable y me hizo sentir tranquila.",
		"El personal de recepción fue atento y servicial.",
		"Trataron a mi madre con mucho respeto.",
	}},
	{"communication", []string{
		"The doctor explained everything clearly and checked I understood.",
		"I was kept informed at every step.",
		"They took time to explain my results in plain language.",
	}, []string{
		"El médico me explicó todo con claridad.",
		"Me mantuvieron informado en todo momento.",
	}},
	{"wait_times", []string{
		"I was seen on time, no waiting at all.",
		"Very quick, in and out in twenty minutes.",
		"Seen promptly even though it was busy.",
	}, []string{
		"Me atendieron puntualmente, sin esperar.",
		"Muy rápido, me atendieron enseguida.",
	}},
	{"clinical_care", []string{
		"Excellent care, my pain is finally under control.",
		"The treatment worked and I feel so much better.",
		"Thorough examination and a clear diagnosis.",
	}, []string{
		"Excelente atención, ya no tengo dolor.",
		"El tratamiento funcionó y me siento mucho mejor.",
	}},
	{"environment", []string{
		"The clinic was spotless and calm.",
		"Comfortable waiting room and easy parking.",
	}, []string{
		"La clínica estaba muy limpia y tranquila.",
	}},
	{"access", []string{
		"Booking online was easy and I got an appointment the same week.",
		"Easy to get through on the phone.",
	}, []string{
		"Fue fácil pedir cita por internet.",
	}},
	{"follow_up", []string{
		"They called me back the next day with my results as promised.",
		"The referral was sorted quickly.",
	}, []string{
		"Me llamaron al día siguiente con los resultados, como prometieron.",
	}},
}

var complaints = []snippet{
	{"wait_times", []string{
		"I waited over two hours past my appointment time.",
		"The wait in the waiting room was far too long.",
		"Waited 90 minutes and nobody told us why.",
		"Long delays again, the waiting room was packed.",
		"Three weeks waiting for an appointment is too long.",
	}, []string{
		"Esperé más de dos horas después de la hora de mi cita.",
		"La espera fue demasiado larga.",
		"Esperamos hora y media sin ninguna explicación.",
	}},
	{"ignored", []string{
		"Nobody looked up at the desk for ten minutes.",
		"I left two messages and nobody called me back.",
		"I pressed the call bell and no one came.",
	}, []string{
		"Nadie me atendió en el mostrador durante diez minutos.",
		"Dejé dos mensajes y nadie me devolvió la llamada.",
	}},
	{"dismissed", []string{
		"The doctor brushed off my concerns and rushed me out.",
		"I didn't feel listened to at all.",
		"They didn't take my pain seriously.",
	}, []string{
		"El médico no tomó en serio mis preocupaciones.",
		"No me escucharon.",
	}},
	{"staff_attitude", []string{
		"The receptionist was rude and dismissive.",
		"Staff were arguing in front of patients.",
	}, []string{
		"La recepcionista fue grosera.",
	}},
	{"communication", []string{
		"Nobody explained what the tests were for, too much jargon.",
		"I was not kept informed about the delay.",
		"Conflicting information from different staff.",
	}, []string{
		"Nadie me explicó para qué eran las pruebas.",
		"No me informaron del retraso.",
	}},
	{"access", []string{
		"Impossible to get through on the phone, on hold for 40 minutes.",
		"The online portal keeps crashing when I try to book.",
		"Please answer the phones quicker.",
	}, []string{
		"Imposible comunicarse por teléfono.",
		"El portal para pedir cita no funciona.",
	}},
	{"environment", []string{
		"The toilets were dirty.",
		"Parking is a nightmare, nowhere to park.",
		"The waiting room was cold and uncomfortable.",
	}, []string{
		"Los baños estaban sucios.",
		"Es muy difícil aparcar.",
	}},
	{"billing", []string{
		"I was charged twice for the same visit.",
		"The bill was confusing and the copay was higher than I was told.",
	}, []string{
		"Me cobraron dos veces la misma consulta.",
	}},
	{"privacy", []string{
		"Everyone in the waiting room could overhear my details at reception.",
		"No private space to talk about my problem.",
	}, []string{
		"Todos en la sala de espera podían oír mis datos.",
	}},
	{"follow_up", []string{
		"Still waiting for my results, nobody followed up.",
		"They promised a call back that never came.",
	}, []string{
		"Sigo esperando mis resultados.",
	}},
	{"clinical_care", []string{
		"My pain wasn't managed and I was sent home still hurting.",
		"The wrong prescription was given.",
	}, []string{
		"No me controlaron el dolor.",
	}},
}

var nothing = map[string][]string{
	"en": {"Nothing, it was all fine.", "Nothing to improve.", "n/a", "Can't think of anything."},
	"es": {"Nada, todo bien.", "Nada que mejorar."},
}

var suggestions = map[string][]string{
	"en": {
		"Could you put a water fountain in the waiting room?",
		"A screen showing the current waiting time would help a lot.",
		"Please have magazines or books for children.",
		"More chairs in the waiting area please.",
		"Evening appointments would help people who work.",
	},
	"es": {
		"¿Podrían poner una fuente de agua en la sala de espera?",
		"Una pantalla con el tiempo de espera ayudaría mucho.",
		"Más sillas en la sala de espera, por favor.",
	},
}
