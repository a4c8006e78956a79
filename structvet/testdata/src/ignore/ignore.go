package ignore

func work() {}

func directives() {
	//structvet:ignore SV002 the process ends with it
	go work()

	go work() //structvet:ignore barego on the same line

	//structvet:ignore sv002,sv003 case and lists
	go work()

	//structvet:ignore SV002
	go work() // want `SV002: .* \(the structvet:ignore on line 14 needs a reason, so it does not apply\)$`

	//structvet:ignore SV003 another rule
	go work() // want `SV002`

	//structvet:ignore SV002 too far above

	go work() // want `SV002`

	//structvet:ignoreSV002 not a directive
	go work() // want `SV002`
}
