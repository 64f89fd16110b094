//go:build ignore

// This program writes common_passwords.txt. The list is composed, not
// downloaded: well-known most-used passwords as reported again and again in
// public breach analyses, keyboard walks, digit runs, words a clinic's staff
// would reach for, and the usual decorations people add to satisfy length
// rules (a year, "123", "!"). Run: go generate ./secure/
package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// base holds well-known common passwords and words, lower case.
var base = strings.Fields(`
123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon
123123 baseball abc123 football monkey letmein 696969 shadow master 666666
qwertyuiop 123321 mustang 1234567890 michael 654321 superman 1qaz2wsx 7777777
121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh
hunter buster soccer harley batman andrew tigger sunshine iloveyou 2000 charlie
robert thomas hockey ranger daniel starwars klaster 112233 george computer
michelle jessica pepper 1111 zxcvbn 555555 11111111 131313 freedom 777777 pass
maggie 159753 aaaaaa ginger princess joshua cheese amanda summer love ashley
nicole chelsea biteme matthew access yankees 987654321 dallas austin thunder
taylor matrix william corvette hello martin heather secret merlin diamond
1234qwer gfhjkm hammer silver 222222 88888888 anthony justin test bailey
q1w2e3r4t5 patrick internet scooter orange 11111 golfer cookie richard samantha
bigdog guitar jackson whatever mickey chicken sparky snoopy maverick phoenix
camaro peanut morgan welcome falcon cowboy ferrari samsung andrea smokey
steelers joseph mercedes dakota arsenal eagles melissa boomer booboo spider
nascar monster tigers yellow xxxxxx 123123123 gateway marina diablo bulldog
qwer1234 compaq purple banana junior hannah 123654 porsche lakers iceman money
cowboys 987654 london tennis 999999 ncc1701 coffee scooby 0000 miller boston
q1w2e3r4 brandon yamaha chester mother forever johnny edward 333333 oliver
redsox player nikita knight fender barney midnight please brandy chicago badboy
slayer rangers charles angel flower bigdaddy rabbit wizard jasper enter rachel
chris steven winner adidas victoria natasha 1q2w3e4r jasmine winter prince
marine fishing cocacola casper james 232323 raiders 888888 marlboro gandalf
asdfasdf crystal 87654321 12344321 golden 8675309 panther lauren angela spanky
thx1138 angels madison winston shannon mike toyota jordan23 canada sophie
apples tiger razz 123abc pokemon qazxsw 55555 qwaszx muffin johnson murphy
cooper jonathan liverpoo david danielle 159357 jackie 1990 123456a 789456 turtle
abcd1234 scorpion qazwsxedc 101010 butter carlos password1 dennis slipknot
qwerty123 booger asdf 1991 black startrek 12341234 cameron newyork rainbow
nathan john 1992 rocket viking redskins asdfghjkl 1212 sierra peaches gemini
doctor wilson sandra helpme qwertyui victor florida dolphin pookie captain
tucker blue liverpool theman bandit dolphins maddog packers jaguar lovers
nicholas united tiffany maxwell zzzzzz nirvana jeremy monica elephant giants
hotdog rosebud success debbie mountain 444444 xxxxxxxx warrior 1q2w3e4r5t
q1w2e3 123456q albert metallica lucky azerty 7777 alex bond007 alexis 1111111
samson 5150 willie scorpio bonnie gators benjamin voodoo driver dexter 2112
jason calvin freddy 212121 creative 12345a sydney rush2112 1989 asdfghjk red123
bubba 4815162342 passw0rd trouble gunner happy gordon legend jessie stella
qwert eminem arthur apple nissan bear america 1qazxsw2 nothing parker 4444
rebecca qweqwe garfield 01012011 beavis 69696969 jack asdasd december 2222
102030 252525 11223344 magic apollo skippy 315475 kitten golf copper braves
shelby godzilla beaver fred tomcat august buddy airborne 1993 1988 qqqqqq
brooklyn animal platinum phantom online xavier darkness blink182 power fish
green 789456123 voyager police travis 12qwaszx heaven snowball lover abcdef
00000 pakistan 007007 walter playboy blazer cricket sniper donkey willow loveme
saturn therock redwings bigboy pumpkin trinity williams nintendo digital
destiny topgun runner marvin guinness chance bubbles testing fire november
minecraft asdf1234 lasvegas sergey broncos cartman private celtic birdie little
cassie babygirl donald beatles 1313 family 12321 123qweasd 1q2w3e 1qaz2wsx3edc
zaq12wsx zaq1zaq1 zaq1xsw2 !qaz2wsx qwe123 qweasd qweasdzxc asd123 zxc123
aa123456 a123456 a12345 a1b2c3 a1b2c3d4 abc12345 abcd123 abcdefg abcdefgh
iloveyou1 iloveu loveyou lovely princess1 rockyou babygirl1 monkey1 liverpool1
football1 baseball1 soccer1 charlie1 jordan1 michael1 jessica1 superman1
password12 password123 password1234 passw0rd1 p@ssw0rd p@ssword pa55word
pa55w0rd passwort motdepasse contraseña contrasena senha parola hasło haslo
wachtwoord salasana lozinka 1q2w3e4r5t6y 1q2w3e4r5t6y7u8i9o0p qwertyuiop123
asdfghjkl123 zxcvbnm123 qwertyuiopasdfghjklzxcvbnm 1234554321 0987654321
147258369 147852369 741852963 963852741 159357456 123789 147258 258456 456789
789789 1234512345 12345678910 123456789a 123456789q 1234567891 12345678900
0123456789 9876543210 11112222 12121212 13131313 123412341234 123123123123
111222333 112233445566 abcabc abcabc123 aaaaaaaaaaaa qazwsxedcrfv qwerasdfzxcv
admin administrator root toor changeme changeit default guest user login
welcome1 letmein1 secret1 master1 access1 trustno11 test123 test1234 testtest
demo demo123 temp temp123 temporary sample system server manager support
office staff reception frontdesk clinic clinical hospital health healthcare
medical medicine doctor doctors nurse nurses nursing patient patients surgery
pharmacy ward wards theatre emergency ambulance cardiology radiology oncology
pediatrics paediatrics maternity midwife therapy therapist physician dentist
dental care caring carevoice voice feedback survey surveys kiosk tablet
practice gp nhs hipaa covid covid19 coronavirus vaccine stethoscope scrubs
january february march april may june july august september october november
december monday tuesday wednesday thursday friday saturday sunday spring summer
autumn fall winter christmas easter halloween holiday weekend birthday
qwerty1 qwerty12 qwerty1234 qwertz qwertzuiop azertyuiop ytrewq poiuytrewq
mnbvcxz lkjhgfdsa 1qaz 2wsx 3edc zaq1 xsw2 asdfg zxcvb yxcvbnm asdzxc qweqweqwe
baseball123 football123 letmein123 welcome123 admin123 admin1234 administrator1
root123 user123 guest123 hello123 hello1234 helloworld iloveyou123 love123
sunshine1 shadow1 master123 dragon123 monkey123 killer123 computer1 internet1
michael123 jennifer1 jessica123 ashley1 nicole1 daniel1 andrew1 thomas1 robert1
summer1 winter1 spring1 autumn1 flower1 angel1 angel123 princess123 lovely1
freedom1 whatever1 trustme trust123 secret123 secure secure123 security
letmein! welcome! password! passw0rd! changeme1 changeme123 newpassword
newpass mypassword mypass yourpassword thepassword password01 password00
pass123 pass1234 pass12345 passpass passwordpassword 1password qwerty!
`)

// suffixes are the decorations seen most often on top of a base word.
var suffixes = []string{"1", "12", "123", "1234", "12345", "123456", "!", "1!",
	"123!", "01", "007", "2020", "2021", "2022", "2023", "2024", "2025", "2026"}

func main() {
	seen := map[string]bool{}
	add := func(s string) {
		s = strings.ToLower(strings.TrimSpace(s))
		if s != "" {
			seen[s] = true
		}
	}
	for _, w := range base {
		add(w)
		if strings.IndexFunc(w, func(r rune) bool { return r < '0' || r > '9' }) < 0 {
			continue // digit runs are not decorated
		}
		for _, s := range suffixes {
			add(w + s)
		}
	}
	for d := '0'; d <= '9'; d++ {
		for n := 4; n <= 16; n++ {
			add(strings.Repeat(string(d), n))
		}
	}
	digits := "12345678901234567890"
	for n := 4; n <= 16; n++ {
		add(digits[:n])
	}
	for y := 1950; y <= 2026; y++ {
		add(fmt.Sprint(y))
	}
	words := slices.Sorted(func(yield func(string) bool) {
		for w := range seen {
			if !yield(w) {
				return
			}
		}
	})
	var b strings.Builder
	b.WriteString("# Common passwords, lower case, one a line; generated by gen_common_passwords.go.\n")
	for _, w := range words {
		b.WriteString(w + "\n")
	}
	if err := os.WriteFile("common_passwords.txt", []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(len(words), "passwords")
}
