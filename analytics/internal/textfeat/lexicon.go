package textfeat

// Theme indices, in the taxonomy order of analytics.ThemeIDs.
const (
	ThWait = iota
	ThIgnored
	ThDismissed
	ThStaff
	ThComm
	ThAccess
	ThEnv
	ThClinical
	ThFollow
	ThBilling
	ThPrivacy
	NumThemes
)

// Word flags.
const (
	fNegator     uint16 = 1 << iota // starts a negation scope: not, never, didn't
	fIntensify                      // very, extremely
	fDowntone                       // slightly, a bit
	fContrast                       // but, however: the clause after it carries more weight
	fWish                           // should, could, need: advice that implies a complaint
	fComparative                    // quicker, more, better: with fWish it is a request
	fNothing                        // nothing, none, n/a: the "nothing to say" answers
	fBoundary                       // a word that ends a negation scope (and, then)
	fFiller                         // may make up a "nothing to say" answer besides the nothing word
	fImperative                     // a verb that opens advice: "answer", "listen", "be"
	fObject                         // shows a verb has an object: "the", "up", "it"
	fPhrase                         // opens a multi-word lexicon phrase
)

// entry is what the lexicon knows about one normalised word.
type entry struct {
	val       float32 // valence, -4 (awful) .. +4 (outstanding)
	flags     uint16
	themes    uint16 // themes the word signals wherever it appears
	negThemes uint16 // themes it signals only when negated ("not listened to" → dismissed)
	sure      uint16 // themes it names outright, whatever the model says ("=portal")
}

// phrase is a multi-word lexicon item; it wins over the words it is made of.
type phrase struct {
	toks      []uint64
	val       float32
	flags     uint16
	themes    uint16
	negThemes uint16
	sure      uint16
	veto      uint16 // themes this phrase must not trigger ("waited on the doctor's advice")
}

// Sentiment lexicon: valence per word, written for patient comments (British and
// American spelling). Words like "patient" and "care" are deliberately absent:
// in this domain they are nouns, not praise.
const positiveWords = `
good:1.9 great:3.1 excellent:3.4 excellant:3.4 excelent:3.4 brilliant:3.3 brill:3 amazing:3.3 fantastic:3.3
wonderful:3.2 lovely:2.8 helpful:2.2 kind:2.3 kindness:2.3 caring:2.3 friendly:2.2 polite:2
professional:2 professionalism:2 efficient:2 pleasant:2.1 nice:1.8 happy:2.2 satisfied:2 thank:1.8
thanks:1.8 thankyou:1.8 fab:2.8 fabulous:3 superb:3.2 outstanding:3.4 perfect:3 best:3 exceptional:3.3
reassuring:2 reassured:1.8 reassurance:1.8 respectful:2.1 supportive:2.2 compassionate:2.4 compassion:2.2
attentive:2.1 courteous:2 prompt:1.6 promptly:1.6 quick:1.4 quickly:1.4 punctual:1.8 smooth:1.5 clean:1.5
comfortable:1.8 understanding:1.6 calm:1.4 gentle:1.8 knowledgeable:2 informative:1.8 clear:1.2 clearly:1.2
easy:1.4 welcoming:2 welcomed:1.8 safe:1.6 pleased:2 impressed:2.4 grateful:2.4 appreciated:2.2
appreciate:2 appreciative:2 fine:0.8 ok:0.6 okay:0.6 well:0.8 wonderfully:3 superb:3 marvellous:3 marvelous:3
awesome:3 cheerful:2 considerate:2 accommodating:2 patience:1.5 efficiently:1.8 helped:1.4 help:0.6
excellence:3 thorough:1.8 reliable:1.8 dedicated:2 dedication:2 empathetic:2.2 empathy:2 sympathetic:2
positive:1.6 glad:2 love:2.6 loved:2.6 enjoyed:2.4 enjoy:2 fun:2 relaxed:1.6 relaxing:1.6 recommend:2.2
spot:0 faultless:3 flawless:3 beyond:0.5 smile:1.8 smiling:1.8 comforting:2 comfort:1.4 fast:1.2
speedy:1.6 swift:1.6 saved:1.8 superstar:3 heroes:3 hero:3 angels:3 angel:3 stars:2 star:2 gem:2.5
reassure:1.6 listened:1.6 listening:1.2 informed:1 explained:1 sorted:1.4 benefit:1.4 beneficial:1.8
useful:1.8 improved:1.2 improving:0.8 better:1.2 satisfactory:1.2 adequate:0.6 decent:1.2 solid:1
`

const negativeWords = `
bad:-2.2 poor:-2.2 awful:-3.2 terrible:-3.3 horrible:-3.2 horrendous:-3.4 rude:-3 unhelpful:-2.4 late:-1.6
delay:-1.6 delays:-1.6 delayed:-1.6 slow:-1.6 dirty:-2.2 ignored:-2.4 ignore:-1.8 dismissed:-1.8 dismissive:-2.6
rushed:-1.8 disappointed:-2.2 disappointing:-2.2 disappointment:-2.2 unprofessional:-3 worst:-3.4 appalling:-3.4
appalled:-3.2 disgusting:-3.4 disgraceful:-3.4 disgrace:-3.2 shocking:-3 shocked:-2.4 unacceptable:-3 upset:-2.2
upsetting:-2.4 angry:-2.4 anger:-2.2 frustrated:-2.2 frustrating:-2.2 frustration:-2.2 annoyed:-2 annoying:-2
painful:-1.6 uncomfortable:-1.8 noisy:-1.6 problem:-1.2 problems:-1.2 issue:-1 issues:-1 complaint:-1.6
complaints:-1.2 complain:-1.4 cancelled:-1.6 canceled:-1.6 missed:-1.4 lost:-1.4 forgot:-2 forgotten:-2
struggle:-1.6 struggled:-1.6 struggling:-1.8 difficult:-1.6 difficulty:-1.6 hard:-1 confusing:-2 confused:-1.6
unclear:-1.8 lack:-1.6 lacking:-1.8 lacked:-1.6 shortage:-1.6 understaffed:-2 mistake:-2 mistakes:-2 wrong:-1.8
error:-1.6 worse:-2.2 sad:-2 scared:-1.4 scary:-1.6 anxious:-1.2 anxiety:-1 stress:-1.6 stressful:-2.2
stressed:-1.8 fail:-2 failed:-2.2 failing:-2.2 failure:-2 useless:-3 incompetent:-3.2 careless:-2.4
arrogant:-3 condescending:-3 patronising:-3 patronizing:-3 abrupt:-2.2 uncaring:-3 unkind:-2.6 impatient:-2
disrespectful:-3 dreadful:-3.2 pathetic:-3 ridiculous:-2.6 rubbish:-2.8 waste:-2 wasted:-2 unable:-1
unreliable:-2.2 unfriendly:-2.6 unsafe:-2.6 neglected:-2.8 neglect:-2.8 abandoned:-2.8 unanswered:-2.2
hopeless:-2.8 inadequate:-2.4 insufficient:-2 annoyance:-2 nightmare:-3 chaos:-2.4 chaotic:-2.4 mess:-2
messed:-2.2 hate:-3 hated:-3 horrid:-3 cold:-0.8 smelly:-2.2 filthy:-3 noise:-1 unhappy:-2.4 distressed:-2.4
distressing:-2.6 distress:-2.2 unfortunately:-1.4 sadly:-1.4 worried:-1.4 worrying:-1.6 fobbed:-2.6
inconsiderate:-2.6 bullied:-3 bully:-3 shouted:-2.4 shouting:-2.2 argued:-2 arguing:-2.2 argumentative:-2.6
misdiagnosed:-2.6 refused:-2 refuse:-1.6 ages:-1.2 wait:-0.4 waiting:-0.4 waited:-0.6 nobody:-1.2 unwell:-0.6
lied:-2.8 lies:-2.6 liar:-3 excuse:-1.2 excuses:-1.6 inconvenient:-1.8 inconvenience:-1.8 overcrowded:-2
fault:-1.2 impossible:-2 trouble:-1.6 hassle:-1.6 fuss:-1 charge:-0.3 charges:-0.3 charged:-0.5 fee:-0.3 fees:-0.3
overcharged:-2.6 overcharging:-2.6 invisible:-2 belittled:-3 belittling:-3 hurried:-1.2 humiliated:-3
humiliating:-3 embarrassing:-2 embarrassed:-1.8 undignified:-2.6 neglectful:-2.8 jargon:-1.5 uninformed:-1.6 unwelcoming:-2.4 sloppy:-2.4 complained:-1.6 cruel:-3.2 harsh:-2.2 agitated:-1.6
`

// Spanish: a small lexicon so that comments from the Spanish survey get a
// sensible reading even though the trained model has seen only English.
const spanishWords = `
bueno:1.9 buena:1.9 buenos:1.9 buenas:1.9 excelente:3.4 excelentes:3.4 genial:3 amable:2.3 amables:2.3
maravilloso:3.2 maravillosa:3.2 gracias:1.8 feliz:2.2 contento:2.2 contenta:2.2 rapido:1.4 rápido:1.4
rapida:1.4 rápida:1.4 limpio:1.5 limpia:1.5 atento:2.1 atenta:2.1 atentos:2.1 profesional:2 profesionales:2
perfecto:3 mejor:1.2 estupendo:3 agradable:2 respetuoso:2 claro:1.2 clara:1.2 satisfecho:2 satisfecha:2
malo:-2.2 mala:-2.2 malos:-2.2 pésimo:-3.3 pesimo:-3.3 terrible:-3.3 horrible:-3.2 grosero:-3 grosera:-3
groseros:-3 lento:-1.6 lenta:-1.6 sucio:-2.2 sucia:-2.2 tarde:-1.2 espera:-0.6 esperar:-0.6 esperé:-0.8
problema:-1.2 problemas:-1.2 queja:-1.6 mal:-2 peor:-2.2 nadie:-1.2 ignoraron:-2.4 caro:-1.6 cara:-0.4
`

// Modifiers and function words.
const (
	negators    = `not no never nt dont didnt doesnt wasnt werent isnt arent cant cannot couldnt wouldnt shouldnt wont hasnt havent hadnt aint without nobody none neither nor hardly barely nothing no-one noone nunca nada ningun ninguna`
	intensifier = `very really so extremely absolutely incredibly totally completely highly super truly most especially exceptionally particularly such too utterly thoroughly deeply hugely massively immensely seriously genuinely definitely remarkably amazingly muy tan`
	downtoner   = `slightly somewhat fairly bit little rather kinda sorta reasonably partly mostly occasionally sometimes bit`
	contrasts   = `but however although though except unfortunately yet whereas pero aunque sin-embargo`
	wishes      = `should could need needs needed would must please try ought wish maybe perhaps hopefully consider`
	comparative = `more less better quicker faster sooner earlier shorter longer fewer clearer bigger smaller easier improve improved improvement improvements`
	nothings    = `nothing none na n/a nil nope no`
	boundaries  = `and then so which who because as when while whilst also`
)

// Common misspellings and variants in patient comments, mapped to the word the
// lexicons know. Keep this to real, frequent errors: every entry is a guess
// about what a patient meant.
const spellings = `
recieve:receive recieved:received proffesional:professional profesional:professional professionel:professional
proffessional:professional freindly:friendly frendly:friendly helpfull:helpful curteous:courteous
knowledgable:knowledgeable promt:prompt prompty:promptly waitng:waiting appointement:appointment
appoitment:appointment apointment:appointment appointmen:appointment ambulence:ambulance pateint:patient
pateints:patients definately:definitely dissapointed:disappointed dissappointed:disappointed
disapointed:disappointed comunication:communication communicaton:communication explaned:explained
attentative:attentive carring:caring polight:polite recomend:recommend reccomend:recommend
reccommend:recommend accomodating:accommodating sympathethic:sympathetic emapthetic:empathetic
brillant:brilliant briliant:brilliant excellant:excellent excelent:excellent exellent:excellent
fantastik:fantastic wonderfull:wonderful beautifull:beautiful gratefull:grateful greatful:grateful
extremly:extremely realy:really verry:very vey:very alot:lot unprofesional:unprofessional
untill:until recieving:receiving wating:waiting waitting:waiting tommorow:tomorrow tommorrow:tomorrow
phoneing:phoning calll:call responce:response minuites:minutes minuets:minutes mins:minutes min:minutes
hrs:hours hr:hours tho:though thru:through pls:please plz:please thx:thanks ty:thanks ppl:people
appt:appointment appts:appointments dr:doctor drs:doctors docs:doctors doc:doctor gp:doctor
colour:color centre:center organised:organized organise:organize apologise:apologize realise:realize
`

// Themes. Words may be given with inflections as "wait|s|ed|ing" (base plus
// suffixes). A phrase is written with spaces. An entry prefixed with "!" fires
// only when negated ("!listened": "they never listened" is dismissal, "they
// listened" is not). An entry prefixed with "=" names its theme outright: the
// theme is tagged even where the model decides the theme's other words. It is
// for the words of SPEC's themes that the training comments (an ambulance
// service and a mental-health trust) never use — "portal", "jargon",
// "parking" — so the model cannot have learnt them.
var themeWords = [NumThemes]string{
	ThWait: `wait|s|ed|ing|ings waited delay|s|ed|ing late|r latest queue|s|d|ing prompt|ly promptness quick|ly|er
quickest punctual punctuality timely timeliness early|ier earliest slow|ly|er speed|y|ily fast|er ages
minutes hours hour minute waiting_list waiting_room response_time response_times arrived_quickly
on_time in_time straight_away right_away took_ages long_time long_wait handover eta soon|er
immediately instantly rapid|ly swift|ly efficient|ly hung_around sat_around kept_waiting time_keeping
arrival_time pick_up_time pickup_time espera esperar esperé tardaron tarde rápido rápida`,
	ThIgnored: `ignored ignore|s|ing unanswered unacknowledged no_one_came nobody_came no_one_answered
nobody_answered no_response no_reply left_alone left_on_my_own left_on_our_own no_one_checked
nobody_checked no_one_helped nobody_helped !acknowledged !answered !responded !replied !checked
!helped !attended !bothered !come !came not_help didnt_help did_not_help ignoraron
!looked_up !look_up !looking_up !look_at_me !looked_at_me !eye_contact !greeted !respond|s !reply
!called_back !call_back !call_me_back !called_me_back !rang_back !rang_me_back !ring_back !ring_me_back
!phoned_back !phoned_me_back !got_back_to_me !got_back_to_us !get_back_to_me !get_back_to_us
!returned_my_call|s !returned_our_call|s !return_my_call|s !returned_my_message|s !return_my_message|s
unreturned invisible felt_invisible like_i_wasnt_there like_we_werent_there forgot_about_me
forgot_about_us forgotten_about felt_forgotten got_forgotten left_sitting left_waiting_without
chatting_among_themselves chatting_amongst_themselves talking_among_themselves
talking_amongst_themselves chatting_to_each_other talking_to_each_other no_one_around nobody_around
no_one_to_help nobody_to_help no_one_to_ask nobody_to_ask`,
	ThDismissed: `dismissed dismissive fobbed fobbed_off brushed_off rushed patronising patronizing condescending
!listened !listen !listening !believed !understood !understanding !involved !heard !seriously
not_taken_seriously not_listened_to talk_down talked_down talking_down didnt_care no_one_listened
nobody_listened not_interested wouldnt_listen
dismiss|es|ing brushed_aside brush_off brushed_me_off brushing_off shrugged_off waved_off waved_away
laughed_off laughed_at_me belittled belittling belittle felt_hurried hurried_me hurried_us hurried_through
hurrying_me rushing_me rushed_out all_in_my_head all_in_your_head imagining_it just_anxiety just_stress put_it_down_to hypochondriac felt_like_a_number
like_a_number like_a_statistic conveyor_belt cut_me_off cut_me_short interrupted talked_over_me
spoke_over_me talked_over_us made_me_feel_stupid felt_stupid made_to_feel_stupid felt_like_a_nuisance
like_a_nuisance felt_like_a_burden wasting_their_time wasting_his_time wasting_her_time
wasting_your_time get_rid_of_me get_rid_of_us got_rid_of_me ignored_my_concerns ignored_my_concern
ignored_what_i_said !time_for_me !time_to_listen !take_me_seriously`,
	ThStaff: `rude|ness kind|ness caring friendly polite|ness lovely helpful nice respectful respect|ed
professional|ism unprofessional compassion|ate attitude|s manner|s courteous pleasant arrogant abrupt
attentive supportive cheerful welcoming empathetic empathy considerate unkind uncaring unfriendly
impolite disrespectful condescending sympathetic warm gentle approachable cheery bubbly obliging
helpfulness dignity_and_respect staff_were nurses_were crew_were paramedics_were very_patient
so_patient amable amables grosero grosera atento atenta atentos personal_amable`,
	ThComm: `explained explain|s|ing explanation|s informed inform|ation info|rmative communication|s
communicate|d|s communicating told instruction|s unclear clear|ly jargon update|s|d kept_informed
kept_me_informed kept_up_to_date keep_informed keep_us_informed letter|s miscommunication
misinformation misinformed conflicting confusing advice advised leaflet|s understand questions
answered_questions answered_my_questions talked_through talk_through reassured reassurance
reassuring spoke_to talked_to contradicting contradictory in_the_dark not_told never_told nobody_told
lenguaje explicaron explicó información =jargon =medical_jargon =medical_terms =plain_english
=plain_language =layman's_terms =laymans_terms`,
	ThAccess: `phone|s|d phoning telephone|d call|s calling rang ring|ing booking|s book|ed appointment|s portal
online website app get_through got_through engaged on_hold reception receptionist|s contact|ed|ing
email|s text|s message|s face_to_face home_visit|s cancel|led|lation|lations reschedule|d availability
access|ible|ing 111 transport booked_transport pick_up pickup pick-up collected collection
answer_the_phone answer_calls answer_phones opening_hours out_of_hours switchboard voicemail slot|s
referral_system waiting_list cita citas teléfono telefono llamar llamé front_desk =portal|s
=patient_portal =on_hold =voicemail|s =automated_system =phone_tree =online_booking`,
	ThEnv: `clean|liness|ed dirty hygiene|ic comfortable comfort uncomfortable noise noisy quiet food meal|s drink|s
tea coffee parking car_park park|ed ward room|s bed|s temperature hot cold equipment wheelchair|s
stretcher toilet|s facilities facility seat|s chair|s decor smell|s|y tidy untidy building garden
atmosphere environment surroundings space lighting heating warm_room waiting_area cleanliness
refreshments snack|s cake vending mask|s gym lounge shower|s bathroom|s mattress pillow|s blanket|s
kitchen menu portion|s limpio limpia sucio sucia comida ruido estacionamiento parking_fee|s parking_charge|s
=pay_for_parking =paying_for_parking =paid_for_parking =parking =car_park|s =parking_lot|s =parking_garage|s
=parking_space|s =parking_spot|s =restroom|s =bathroom|s`,
	ThClinical: `treatment|s treated treat|ing diagnosis diagnosed misdiagnosed diagnose pain painful
painkiller|s medication|s medicine|s competent incompetent competence knowledgeable skilled skill|s
expertise examination examined examine assessment|s assessed outcome recovery recovered saved_my_life
saved_his_life saved_her_life therapy therapist|s session|s procedure|s operation surgery
prescription|s prescribed test|s scan|s x-ray xray bloods injection|s dressing|s wound medical
clinical physio|therapy psychiatrist psychologist counselling counselor counsellor cbt exercises
monitoring monitored observations stable condition ecg oxygen tratamiento dolor diagnóstico`,
	ThFollow: `follow_up followup follow-up followed_up call_back callback called_back ring_back rang_back
referral|s referred refer|ring results discharge|d continuity same_doctor same_nurse care_plan|s
plan|s promised promise|s never_heard_back heard_back chase|d|ing handover transfer|red
next_appointment review|s reviewed aftercare after_care signposted signposting liaise|d liaising
liaison coordinated co-ordinated joined_up transition seguimiento resultados`,
	ThBilling: `bill|s|ed|ing invoice|s|d charge|s|d charging cost|s|ly fee|s insurance insurer|s copay|s co-pay|s
copayment|s payment|s price|s|y pricing expensive overcharged refund|s|ed deductible
out_of_pocket afford|able parking_fee|s parking_charge|s factura facturas cobro cobraron seguro precio
billing_office billing_department pay_for_parking paying_for_parking paid_for_parking double_charged
charged_twice surprise_bill balance_due`,
	ThPrivacy: `privacy private_room private_space overheard overhear|d|ing confidential|ity lack_of_dignity no_dignity discreet discretion curtain|s
exposed in_front_of_everyone in_front_of_other_patients embarrass|ed|ing|ment undignified gown
humiliated humiliating eavesdrop|ping privacidad privada
dignity thin_walls out_loud for_all_to_hear for_everyone_to_hear everyone_could_hear everybody_could_hear
everyone_can_hear everybody_can_hear whole_waiting_room_could hear_everything heard_everything
hear_every_word heard_every_word in_front_of_the_whole in_front_of_strangers in_front_of_others
in_front_of_other_people in_front_of_people in_front_of_the_waiting_room door_open door_was_open
door_was_left_open left_the_door_open door_wide_open undressed undress|ing naked half_naked
chaperone gossiping_about gossip_about data_breach shared_my_details shared_my_information`,
}

// Phrases that look like a theme but are not one; their words are kept out of
// that theme's rule.
var vetoPhrases = []struct {
	text  string
	theme int
}{
	{"waited on", ThWait},     // "I waited on the doctor's advice": followed advice, no delay
	{"wait on", ThWait},       // "wait on the results" is follow-up, not a delay
	{"cant wait", ThWait},     // "can't wait to come back"
	{"couldnt wait", ThWait},  // "couldn't wait to get home"
	{"wait and see", ThWait},  // a plan, not a delay
	{"took care", ThClinical}, // "took care of me": manner, not treatment
	{"pay attention", ThBilling},
	{"paid attention", ThBilling},
	{"pays attention", ThBilling},
	{"pay lots", ThBilling},
	{"private ambulance", ThPrivacy},
}
