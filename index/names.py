"""Given names common in Britain: a capitalised pair starting with one ("Adam Crowther") names a person,
where a pair such as "Workplace Parking" or "Clean Air" does not. Papers print officers, councillors
and members of the public this way, in every council."""

GIVEN_NAMES = frozenset("""
aaron abbie abdul abigail ada adam adeel adrian agnes ahmed aidan aileen aisha alan alastair albert alex alexander
alexandra alexis alfie alfred ali alice alicia alison alistair allan allison alma amanda amelia amir amit amy
andrea andrew andy angela angus anita ann anna anne annette annie anthony antony archie arthur ashley asif
audrey austin barbara barry beatrice becky belinda ben benjamin bernadette bernard beth bethan bethany betty beverley
bill billy bob bobby bradley brenda brendan brian bridget bruce bryan callum calum cameron carl carla carly carmen
carol carole caroline carolyn carrie catherine cathy charles charlie charlotte chelsea cheryl chloe chris christian
christina christine christopher christy claire clare clive colin connor conor craig daisy damian damien dan
daniel daniela danielle danny darren dave david dawn dean debbie deborah debra declan denise dennis derek diana
diane dominic donald donna doreen doris dorothy douglas duncan dylan eddie edith edward eileen elaine eleanor elena
eliot elizabeth ella ellen ellie elliot elsie emily emma eric erin ethan eve evelyn faisal faye felicity fiona
florence frances francesca francis frank fraser freddie frederick gail gareth garry gary gavin gemma geoff geoffrey
george georgia georgina gerald gerard gerry gill gillian gina glenn gloria gordon graeme graham greg
gregory hamish hannah harold harriet harry hassan hayley heather heidi helen henry hilary howard
hugh hugo iain ian imran ingrid irene isaac isabel isabella isabelle jack jackie jacob jacqueline jade jake james
jamie jan jane janet janice jasmine jason jay jean jeff jeffrey jennifer jenny jeremy jessica jill jim jimmy jo joan
joanna joanne jodie joe joel john johnny jon jonathan jordan joseph josephine josh joshua joyce judith judy
julia julian julie justin kamal karen karl kate katharine katherine kathleen kathryn kathy katie katy kay 
keith kelly ken kenneth kerry kevin kieran kim kirsty kristian kyle laura lauren lawrence leah lee leigh lena leo
leon leonard lesley leslie lewis liam lily linda lindsay lindsey lisa liz lizzie lloyd logan lorna lorraine louis
louise lucy luke lydia lynda lynn lynne madeleine maggie malcolm mandy marc marcus margaret maria marian marie
marion mark martin martyn mary matt matthew maureen megan mel melanie melissa michael michaela michelle mick
mike mildred millie mo mohammed mohammad molly monica muhammad nadia naomi natalia natalie natasha nathan
neil nicholas nick nicky nicola nigel nikki noel norman oliver olivia owen paddy pam pamela pat patricia
patrick paul paula pauline pete peter phil philip philippa phillip phoebe polly rachel rachael rajesh ralph
raymond rebecca rebekah reece rhys richard rick ricky rita rob robert roberta robin robyn roger ronald rory rosa
rosemary ross rowan roxanne roy russell ruth ryan sadie sally sam samantha samuel sandra sara sarah scott sean
shane shannon sharon shaun shauna sheila shirley simon sinead sonia sophie stacey stanley stella stephanie
stephen steve steven stewart stuart sue susan suzanne sylvia tamsin tanya tara teresa terry theresa thomas tim
timothy tina toby tom tommy tony tracey tracy trevor uzma valerie vanessa vicky victor victoria vincent 
vivien wayne wendy william yasmin yvonne zara zoe zoë
""".split())
