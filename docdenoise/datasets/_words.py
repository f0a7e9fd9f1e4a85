"""A small English vocabulary for the synthetic page generator.

Common words of running prose plus words of the technical and business documents
people scan. Kept short on purpose: the generator mixes in pseudo-words, numbers,
dates and punctuation so that a model does not learn a fixed vocabulary.
"""

from __future__ import annotations

__all__ = ["SYLLABLES", "WORDS"]

_WORDS_TEXT = """
    the of and to in is was for that on as with by be at this are from or it an have
    which not but has were all their can been one more they also other there its new
    may after first two into only some between these than would when under over such
    most where about time during many both use used three then each while through
    well however being same since must could should between before without within any
    made very much those will because against few part number order point case years
    world people system results report method methods data value values table figure
    section page form forms field fields letter office account payment invoice total
    amount date name address phone street city county state company service services
    customer department management committee meeting minutes agenda council board
    member members public private general annual quarterly monthly budget cost costs
    price prices rate rates income tax taxes balance credit debit bank loan interest
    contract agreement clause terms conditions party parties notice request reply
    review approval signature signed copy original document documents record records
    file files archive scan scanned print printed paper sheet ink line lines word words
    text image images noise filter filters mean median pixel pixels window edge edges
    shape size width height quality training network neural model models learning
    sample samples test tests error errors measure analysis process processing result
    example examples problem problems approach solution design structure function
    operation operations research study studies evidence information question answer
    history science school university student students teacher class course lecture
    chapter volume edition journal article paper author authors editor press book
    books library reference references note notes summary abstract introduction
    conclusion discussion appendix index list item items unit units level levels
    area areas region regions north south east west central local national government
    health medical patient patients hospital doctor treatment clinical care water
    energy power light heat temperature pressure surface material materials steel
    wood glass stone road roads bridge river house houses building buildings room
    window door floor wall street market trade industry production product products
    weight length distance speed change changes growth increase decrease average
    percent per cent half quarter week weeks month months year day days hour hours
    morning evening early late long short small large great high low good best better
    old young main major minor simple special common final full free clear certain
    possible important available several various following above below left right
    upper lower inner outer open closed hand hands head body family children women men
    group groups team teams country countries land air sea field forces war peace
    law laws court judge case cases rule rules policy policies plan plans program
    project projects support supply demand board staff office officer officers
    guide guides guiding ruler rulers rectangle rectangles box boxes handwritten
    written write writing read reading reader readers clean cleaned remove removed
    stain stains shadow shadows crease creases fold folded texture background
    """

_SYLLABLES_TEXT = """
    ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo ga ge go la le li lo lu
    ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te
    ti to tu va ve vi vo an en in on un ar er ir or ur al el il ol str tra tri pro pre
    con com dis ex ment tion sion ous ive able ing ed er est ly ty ic al ism ist ph th
    sh ch qu st sp sc gr br cr dr fr pl bl cl fl gl sl tw wh
    """

WORDS: tuple[str, ...] = tuple(_WORDS_TEXT.split())
SYLLABLES: tuple[str, ...] = tuple(_SYLLABLES_TEXT.split())
