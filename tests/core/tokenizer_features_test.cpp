// Feature tests of the tokenizer.json path on small hand-made tokenizers, each against the ids,
// the ids with add_special and the decoded text (skip_special_tokens) that Hugging Face tokenizers
// 0.22 gave for them: added-token rules (lstrip, rstrip, single_word, normalized tokens behind a
// normalizer, special tokens skipped in decode), NFC composition and reordering, a template
// post-processor, Metaspace with prepend_scheme "first", unknown tokens (fused and not),
// continuing_subword_prefix / end_of_word_suffix, WhitespaceSplit, Digits, Strip, the five Split
// behaviours with and without invert, ignore_merges, a String Split pattern, Punctuation, Prepend
// and a Replace by regex.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace lowbit {
namespace {

struct OracleCase {
  std::string input;
  std::vector<int32_t> ids;           // add_special = false
  std::vector<int32_t> with_special;  // add_special = true
  std::string decoded;                // decode(ids)
};

struct OracleSuite {
  std::string name;
  std::string json;
  std::vector<OracleCase> cases;
};

std::string split_tokenizer(const std::string& behavior, bool invert);

constexpr const char* kSplitJsonTemplate = R"json({"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":null,
"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"-+"},
"behavior":"@BEHAVIOR@","invert":"@INVERT@"},{"type":"ByteLevel","add_prefix_space":false,
"trim_offsets":true,"use_regex":false}]},"post_processor":null,"decoder":{"type":"ByteLevel",
"add_prefix_space":true,"trim_offsets":true,"use_regex":true},"model":{"type":"BPE","dropout":null,
"unk_token":null,"continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,
"byte_fallback":false,"ignore_merges":true,"vocab":{"Ā":0,"ā":1,"Ă":2,"ă":3,"Ą":4,"ą":5,"Ć":6,"ć":7,
"Ĉ":8,"ĉ":9,"Ċ":10,"ċ":11,"Č":12,"č":13,"Ď":14,"ď":15,"Đ":16,"đ":17,"Ē":18,"ē":19,"Ĕ":20,"ĕ":21,
"Ė":22,"ė":23,"Ę":24,"ę":25,"Ě":26,"ě":27,"Ĝ":28,"ĝ":29,"Ğ":30,"ğ":31,"Ġ":32,"!":33,"\"":34,"#":35,
"$":36,"%":37,"&":38,"'":39,"(":40,")":41,"*":42,"+":43,",":44,"-":45,".":46,"/":47,"0":48,"1":49,
"2":50,"3":51,"4":52,"5":53,"6":54,"7":55,"8":56,"9":57,":":58,";":59,"<":60,"=":61,">":62,"?":63,
"@":64,"A":65,"B":66,"C":67,"D":68,"E":69,"F":70,"G":71,"H":72,"I":73,"J":74,"K":75,"L":76,"M":77,
"N":78,"O":79,"P":80,"Q":81,"R":82,"S":83,"T":84,"U":85,"V":86,"W":87,"X":88,"Y":89,"Z":90,"[":91,
"\\":92,"]":93,"^":94,"_":95,"`":96,"a":97,"b":98,"c":99,"d":100,"e":101,"f":102,"g":103,"h":104,
"i":105,"j":106,"k":107,"l":108,"m":109,"n":110,"o":111,"p":112,"q":113,"r":114,"s":115,"t":116,
"u":117,"v":118,"w":119,"x":120,"y":121,"z":122,"{":123,"|":124,"}":125,"~":126,"ġ":127,"Ģ":128,
"ģ":129,"Ĥ":130,"ĥ":131,"Ħ":132,"ħ":133,"Ĩ":134,"ĩ":135,"Ī":136,"ī":137,"Ĭ":138,"ĭ":139,"Į":140,
"į":141,"İ":142,"ı":143,"Ĳ":144,"ĳ":145,"Ĵ":146,"ĵ":147,"Ķ":148,"ķ":149,"ĸ":150,"Ĺ":151,"ĺ":152,
"Ļ":153,"ļ":154,"Ľ":155,"ľ":156,"Ŀ":157,"ŀ":158,"Ł":159,"ł":160,"¡":161,"¢":162,"£":163,"¤":164,
"¥":165,"¦":166,"§":167,"¨":168,"©":169,"ª":170,"«":171,"¬":172,"Ń":173,"®":174,"¯":175,"°":176,
"±":177,"²":178,"³":179,"´":180,"µ":181,"¶":182,"·":183,"¸":184,"¹":185,"º":186,"»":187,"¼":188,
"½":189,"¾":190,"¿":191,"À":192,"Á":193,"Â":194,"Ã":195,"Ä":196,"Å":197,"Æ":198,"Ç":199,"È":200,
"É":201,"Ê":202,"Ë":203,"Ì":204,"Í":205,"Î":206,"Ï":207,"Ð":208,"Ñ":209,"Ò":210,"Ó":211,"Ô":212,
"Õ":213,"Ö":214,"×":215,"Ø":216,"Ù":217,"Ú":218,"Û":219,"Ü":220,"Ý":221,"Þ":222,"ß":223,"à":224,
"á":225,"â":226,"ã":227,"ä":228,"å":229,"æ":230,"ç":231,"è":232,"é":233,"ê":234,"ë":235,"ì":236,
"í":237,"î":238,"ï":239,"ð":240,"ñ":241,"ò":242,"ó":243,"ô":244,"õ":245,"ö":246,"÷":247,"ø":248,
"ù":249,"ú":250,"û":251,"ü":252,"ý":253,"þ":254,"ÿ":255,"-a":256,"c-":257,"b-":258,"ab":259,"abc":260,
"--":261,"-ab":262,"a-":263},"merges":[["-","a"],["c","-"],["b","-"],["a","b"],["ab","c"],["-","-"],
["-a","b"]]}})json";

constexpr const char* kByteLevelAddedTokenRulesJson = R"json({"version":"1.0","truncation":null,"padding":null,"added_tokens":[{"id":288,"content":"<s>",
"single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":289,
"content":"</s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
{"id":290,"content":"<L>","single_word":false,"lstrip":true,"rstrip":false,"normalized":false,
"special":true},{"id":291,"content":"<R>","single_word":false,"lstrip":false,"rstrip":true,
"normalized":false,"special":true},{"id":292,"content":"<W>","single_word":true,"lstrip":false,
"rstrip":false,"normalized":false,"special":false},{"id":293,"content":"<Nß>","single_word":false,
"lstrip":false,"rstrip":false,"normalized":true,"special":false},{"id":294,"content":"<|end|>",
"single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":295,
"content":"<LR>","single_word":false,"lstrip":true,"rstrip":true,"normalized":false,"special":true}],
"normalizer":{"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Replace",
"pattern":{"String":"ß"},"content":"ss"}]},"pre_tokenizer":{"type":"ByteLevel",
"add_prefix_space":false,"trim_offsets":true,"use_regex":true},
"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},
{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}],
"pair":[{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}}],
"special_tokens":{"<s>":{"id":"<s>","ids":[288],"tokens":["<s>"]},"</s>":{"id":"</s>","ids":[289],
"tokens":["</s>"]}}},"decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,
"use_regex":true},"model":{"type":"BPE","dropout":null,"unk_token":null,
"continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,
"ignore_merges":false,"vocab":{"Ā":0,"ā":1,"Ă":2,"ă":3,"Ą":4,"ą":5,"Ć":6,"ć":7,"Ĉ":8,"ĉ":9,"Ċ":10,
"ċ":11,"Č":12,"č":13,"Ď":14,"ď":15,"Đ":16,"đ":17,"Ē":18,"ē":19,"Ĕ":20,"ĕ":21,"Ė":22,"ė":23,"Ę":24,
"ę":25,"Ě":26,"ě":27,"Ĝ":28,"ĝ":29,"Ğ":30,"ğ":31,"Ġ":32,"!":33,"\"":34,"#":35,"$":36,"%":37,"&":38,
"'":39,"(":40,")":41,"*":42,"+":43,",":44,"-":45,".":46,"/":47,"0":48,"1":49,"2":50,"3":51,"4":52,
"5":53,"6":54,"7":55,"8":56,"9":57,":":58,";":59,"<":60,"=":61,">":62,"?":63,"@":64,"A":65,"B":66,
"C":67,"D":68,"E":69,"F":70,"G":71,"H":72,"I":73,"J":74,"K":75,"L":76,"M":77,"N":78,"O":79,"P":80,
"Q":81,"R":82,"S":83,"T":84,"U":85,"V":86,"W":87,"X":88,"Y":89,"Z":90,"[":91,"\\":92,"]":93,"^":94,
"_":95,"`":96,"a":97,"b":98,"c":99,"d":100,"e":101,"f":102,"g":103,"h":104,"i":105,"j":106,"k":107,
"l":108,"m":109,"n":110,"o":111,"p":112,"q":113,"r":114,"s":115,"t":116,"u":117,"v":118,"w":119,
"x":120,"y":121,"z":122,"{":123,"|":124,"}":125,"~":126,"ġ":127,"Ģ":128,"ģ":129,"Ĥ":130,"ĥ":131,
"Ħ":132,"ħ":133,"Ĩ":134,"ĩ":135,"Ī":136,"ī":137,"Ĭ":138,"ĭ":139,"Į":140,"į":141,"İ":142,"ı":143,
"Ĳ":144,"ĳ":145,"Ĵ":146,"ĵ":147,"Ķ":148,"ķ":149,"ĸ":150,"Ĺ":151,"ĺ":152,"Ļ":153,"ļ":154,"Ľ":155,
"ľ":156,"Ŀ":157,"ŀ":158,"Ł":159,"ł":160,"¡":161,"¢":162,"£":163,"¤":164,"¥":165,"¦":166,"§":167,
"¨":168,"©":169,"ª":170,"«":171,"¬":172,"Ń":173,"®":174,"¯":175,"°":176,"±":177,"²":178,"³":179,
"´":180,"µ":181,"¶":182,"·":183,"¸":184,"¹":185,"º":186,"»":187,"¼":188,"½":189,"¾":190,"¿":191,
"À":192,"Á":193,"Â":194,"Ã":195,"Ä":196,"Å":197,"Æ":198,"Ç":199,"È":200,"É":201,"Ê":202,"Ë":203,
"Ì":204,"Í":205,"Î":206,"Ï":207,"Ð":208,"Ñ":209,"Ò":210,"Ó":211,"Ô":212,"Õ":213,"Ö":214,"×":215,
"Ø":216,"Ù":217,"Ú":218,"Û":219,"Ü":220,"Ý":221,"Þ":222,"ß":223,"à":224,"á":225,"â":226,"ã":227,
"ä":228,"å":229,"æ":230,"ç":231,"è":232,"é":233,"ê":234,"ë":235,"ì":236,"í":237,"î":238,"ï":239,
"ð":240,"ñ":241,"ò":242,"ó":243,"ô":244,"õ":245,"ö":246,"÷":247,"ø":248,"ù":249,"ú":250,"û":251,
"ü":252,"ý":253,"þ":254,"ÿ":255,"Ġt":256,"Ġth":257,"Ġthe":258,"th":259,"the":260,"Ġc":261,"Ġca":262,
"Ġcat":263,"in":264,"Ġi":265,"Ġin":266,"ha":267,"hat":268,"Ġh":269,"Ġha":270,"Ġhat":271,"ss":272,
"st":273,"str":274,"stra":275,"stras":276,"strass":277,"strasse":278,"Ġs":279,"Ġst":280,"Ġstr":281,
"Ġstra":282,"Ġstras":283,"Ġstrass":284,"Ġstrasse":285,"12":286,"123":287},"merges":[["Ġ","t"],["Ġt",
"h"],["Ġth","e"],["t","h"],["th","e"],["Ġ","c"],["Ġc","a"],["Ġca","t"],["i","n"],["Ġ","i"],["Ġi","n"],
["h","a"],["ha","t"],["Ġ","h"],["Ġh","a"],["Ġha","t"],["s","s"],["s","t"],["st","r"],["str","a"],
["stra","s"],["stras","s"],["strass","e"],["Ġ","s"],["Ġs","t"],["Ġst","r"],["Ġstr","a"],["Ġstra","s"],
["Ġstras","s"],["Ġstrass","e"],["1","2"],["12","3"]]}})json";

constexpr const char* kMetaspaceFirstAndUnknownsJson = R"json({"version":"1.0","truncation":null,"padding":null,"added_tokens":[{"id":0,"content":"<unk>",
"single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":1,
"content":"<s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
{"id":2,"content":"</s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,
"special":true},{"id":55,"content":"<sep>","single_word":false,"lstrip":false,"rstrip":false,
"normalized":false,"special":true}],"normalizer":null,"pre_tokenizer":{"type":"Metaspace",
"replacement":"▁","prepend_scheme":"first","split":true},
"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},
{"Sequence":{"id":"A","type_id":0}}],"pair":[{"Sequence":{"id":"A","type_id":0}},
{"Sequence":{"id":"B","type_id":1}}],"special_tokens":{"<s>":{"id":"<s>","ids":[1],
"tokens":["<s>"]}}},"decoder":{"type":"Metaspace","replacement":"▁","prepend_scheme":"first",
"split":true},"model":{"type":"BPE","dropout":null,"unk_token":"<unk>",
"continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,
"ignore_merges":false,"vocab":{"<unk>":0,"<s>":1,"</s>":2,"▁":3,"a":4,"b":5,"c":6,"d":7,"e":8,"f":9,
"g":10,"h":11,"i":12,"j":13,"k":14,"l":15,"m":16,"n":17,"o":18,"p":19,"q":20,"r":21,"s":22,"t":23,
"u":24,"v":25,"w":26,"x":27,"y":28,"z":29,"H":30,"W":31,"▁h":32,"▁he":33,"▁hel":34,"▁hell":35,
"▁hello":36,"▁w":37,"▁wo":38,"▁wor":39,"▁worl":40,"▁world":41,"he":42,"hel":43,"hell":44,"hello":45,
"wo":46,"wor":47,"worl":48,"world":49,"▁t":50,"▁th":51,"▁the":52,"lo":53,"▁a":54},"merges":[["▁","h"],
["▁h","e"],["▁he","l"],["▁hel","l"],["▁hell","o"],["▁","w"],["▁w","o"],["▁wo","r"],["▁wor","l"],
["▁worl","d"],["h","e"],["he","l"],["hel","l"],["hell","o"],["w","o"],["wo","r"],["wor","l"],["worl",
"d"],["▁","t"],["▁t","h"],["▁th","e"],["l","o"],["▁","a"]]}})json";

constexpr const char* kSubwordPrefixSuffixFusedUnkJson = R"json({"version":"1.0","truncation":null,"padding":null,"added_tokens":[{"id":0,"content":"<unk>",
"single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
"normalizer":{"type":"Strip","strip_left":true,"strip_right":true},"pre_tokenizer":{"type":"Sequence",
"pretokenizers":[{"type":"WhitespaceSplit"},{"type":"Digits","individual_digits":true}]},
"post_processor":null,"decoder":{"type":"BPEDecoder","suffix":"</w>"},"model":{"type":"BPE",
"dropout":null,"unk_token":"<unk>","continuing_subword_prefix":"##","end_of_word_suffix":"</w>",
"fuse_unk":true,"byte_fallback":false,"ignore_merges":false,"vocab":{"<unk>":0,"a":1,"##a":2,"b":3,
"##b":4,"c":5,"##c":6,"d":7,"##d":8,"e":9,"##e":10,"f":11,"##f":12,"g":13,"##g":14,"h":15,"##h":16,
"i":17,"##i":18,"j":19,"##j":20,"k":21,"##k":22,"l":23,"##l":24,"m":25,"##m":26,"n":27,"##n":28,
"o":29,"##o":30,"p":31,"##p":32,"q":33,"##q":34,"r":35,"##r":36,"s":37,"##s":38,"t":39,"##t":40,
"u":41,"##u":42,"v":43,"##v":44,"w":45,"##w":46,"x":47,"##x":48,"y":49,"##y":50,"z":51,"##z":52,
"0":53,"##0":54,"1":55,"##1":56,"2":57,"##2":58,"3":59,"##3":60,"4":61,"##4":62,"5":63,"##5":64,
"6":65,"##6":66,"7":67,"##7":68,"8":69,"##8":70,"9":71,"##9":72,"a</w>":73,"##a</w>":74,"b</w>":75,
"##b</w>":76,"c</w>":77,"##c</w>":78,"d</w>":79,"##d</w>":80,"e</w>":81,"##e</w>":82,"f</w>":83,
"##f</w>":84,"g</w>":85,"##g</w>":86,"h</w>":87,"##h</w>":88,"i</w>":89,"##i</w>":90,"j</w>":91,
"##j</w>":92,"k</w>":93,"##k</w>":94,"l</w>":95,"##l</w>":96,"m</w>":97,"##m</w>":98,"n</w>":99,
"##n</w>":100,"o</w>":101,"##o</w>":102,"p</w>":103,"##p</w>":104,"q</w>":105,"##q</w>":106,
"r</w>":107,"##r</w>":108,"s</w>":109,"##s</w>":110,"t</w>":111,"##t</w>":112,"u</w>":113,
"##u</w>":114,"v</w>":115,"##v</w>":116,"w</w>":117,"##w</w>":118,"x</w>":119,"##x</w>":120,
"y</w>":121,"##y</w>":122,"z</w>":123,"##z</w>":124,"0</w>":125,"##0</w>":126,"1</w>":127,
"##1</w>":128,"2</w>":129,"##2</w>":130,"3</w>":131,"##3</w>":132,"4</w>":133,"##4</w>":134,
"5</w>":135,"##5</w>":136,"6</w>":137,"##6</w>":138,"7</w>":139,"##7</w>":140,"8</w>":141,
"##8</w>":142,"9</w>":143,"##9</w>":144,"th":145,"the</w>":146,"ca":147,"cat</w>":148,"ab":149,
"abc":150},"merges":["t ##h","th ##e</w>","c ##a","ca ##t</w>","a ##b","ab ##c"]}})json";

constexpr const char* kStringSplitPunctuationPrependJson = R"json({"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":{"type":"Sequence",
"normalizers":[{"type":"Replace","pattern":{"Regex":"\\s+"},"content":" "},{"type":"Prepend",
"prepend":"hello"}]},"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split",
"pattern":{"String":", "},"behavior":"MergedWithPrevious","invert":false},{"type":"Punctuation",
"behavior":"Contiguous"},{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,
"use_regex":true}]},"post_processor":null,"decoder":{"type":"ByteLevel","add_prefix_space":true,
"trim_offsets":true,"use_regex":true},"model":{"type":"BPE","dropout":null,"unk_token":null,
"continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,
"ignore_merges":false,"vocab":{"Ā":0,"ā":1,"Ă":2,"ă":3,"Ą":4,"ą":5,"Ć":6,"ć":7,"Ĉ":8,"ĉ":9,"Ċ":10,
"ċ":11,"Č":12,"č":13,"Ď":14,"ď":15,"Đ":16,"đ":17,"Ē":18,"ē":19,"Ĕ":20,"ĕ":21,"Ė":22,"ė":23,"Ę":24,
"ę":25,"Ě":26,"ě":27,"Ĝ":28,"ĝ":29,"Ğ":30,"ğ":31,"Ġ":32,"!":33,"\"":34,"#":35,"$":36,"%":37,"&":38,
"'":39,"(":40,")":41,"*":42,"+":43,",":44,"-":45,".":46,"/":47,"0":48,"1":49,"2":50,"3":51,"4":52,
"5":53,"6":54,"7":55,"8":56,"9":57,":":58,";":59,"<":60,"=":61,">":62,"?":63,"@":64,"A":65,"B":66,
"C":67,"D":68,"E":69,"F":70,"G":71,"H":72,"I":73,"J":74,"K":75,"L":76,"M":77,"N":78,"O":79,"P":80,
"Q":81,"R":82,"S":83,"T":84,"U":85,"V":86,"W":87,"X":88,"Y":89,"Z":90,"[":91,"\\":92,"]":93,"^":94,
"_":95,"`":96,"a":97,"b":98,"c":99,"d":100,"e":101,"f":102,"g":103,"h":104,"i":105,"j":106,"k":107,
"l":108,"m":109,"n":110,"o":111,"p":112,"q":113,"r":114,"s":115,"t":116,"u":117,"v":118,"w":119,
"x":120,"y":121,"z":122,"{":123,"|":124,"}":125,"~":126,"ġ":127,"Ģ":128,"ģ":129,"Ĥ":130,"ĥ":131,
"Ħ":132,"ħ":133,"Ĩ":134,"ĩ":135,"Ī":136,"ī":137,"Ĭ":138,"ĭ":139,"Į":140,"į":141,"İ":142,"ı":143,
"Ĳ":144,"ĳ":145,"Ĵ":146,"ĵ":147,"Ķ":148,"ķ":149,"ĸ":150,"Ĺ":151,"ĺ":152,"Ļ":153,"ļ":154,"Ľ":155,
"ľ":156,"Ŀ":157,"ŀ":158,"Ł":159,"ł":160,"¡":161,"¢":162,"£":163,"¤":164,"¥":165,"¦":166,"§":167,
"¨":168,"©":169,"ª":170,"«":171,"¬":172,"Ń":173,"®":174,"¯":175,"°":176,"±":177,"²":178,"³":179,
"´":180,"µ":181,"¶":182,"·":183,"¸":184,"¹":185,"º":186,"»":187,"¼":188,"½":189,"¾":190,"¿":191,
"À":192,"Á":193,"Â":194,"Ã":195,"Ä":196,"Å":197,"Æ":198,"Ç":199,"È":200,"É":201,"Ê":202,"Ë":203,
"Ì":204,"Í":205,"Î":206,"Ï":207,"Ð":208,"Ñ":209,"Ò":210,"Ó":211,"Ô":212,"Õ":213,"Ö":214,"×":215,
"Ø":216,"Ù":217,"Ú":218,"Û":219,"Ü":220,"Ý":221,"Þ":222,"ß":223,"à":224,"á":225,"â":226,"ã":227,
"ä":228,"å":229,"æ":230,"ç":231,"è":232,"é":233,"ê":234,"ë":235,"ì":236,"í":237,"î":238,"ï":239,
"ð":240,"ñ":241,"ò":242,"ó":243,"ô":244,"õ":245,"ö":246,"÷":247,"ø":248,"ù":249,"ú":250,"û":251,
"ü":252,"ý":253,"þ":254,"ÿ":255,"he":256,"hel":257,"hell":258,"hello":259,"..":260,"...":261,"wo":262,
"wor":263,"worl":264,"world":265},"merges":[["h","e"],["he","l"],["hel","l"],["hell","o"],[".","."],
["..","."],["w","o"],["wo","r"],["wor","l"],["worl","d"]]}})json";

const std::vector<OracleSuite>& oracle_suites() {
  static const std::vector<OracleSuite> suites = {
    {"ByteLevelAddedTokenRules", kByteLevelAddedTokenRulesJson,
     {
     {"the cat in the hat", {260, 263, 32, 264, 258, 32, 268}, {288, 260, 263, 32, 264, 258, 32, 268, 289}, "the cat in the hat"},
     {"the cat   <L>  in<R>   the hat", {260, 263, 290, 32, 32, 264, 291, 260, 32, 268}, {288, 260, 263, 290, 32, 32, 264, 291, 260, 32, 268, 289}, "the cat  inthe hat"},
     {"x <LR>  y<LR>z", {120, 295, 121, 295, 122}, {288, 120, 295, 121, 295, 122, 289}, "xyz"},
     {"<W> the<W>cat <W>", {292, 258, 60, 87, 62, 99, 97, 116, 32, 292}, {288, 292, 258, 60, 87, 62, 99, 97, 116, 32, 292, 289}, "<W> the<W>cat <W>"},
     {"a<W>b _<W> \xC3\xA9<W> 1<W>", {97, 60, 87, 62, 98, 32, 95, 60, 87, 62, 32, 195, 169, 60, 87, 62, 32, 49, 60, 87, 62}, {288, 97, 60, 87, 62, 98, 32, 95, 60, 87, 62, 32, 195, 169, 60, 87, 62, 32, 49, 60, 87, 62, 289}, "a<W>b _<W> \xC3\xA9<W> 1<W>"},
     {"strasse stra\xC3\x9F""e <N\xC3\x9F> <Nss> <N\xC3\x9F>x", {275, 272, 101, 32, 275, 272, 101, 32, 293, 32, 293, 32, 293, 120}, {288, 275, 272, 101, 32, 275, 272, 101, 32, 293, 32, 293, 32, 293, 120, 289}, "strasse strasse <N\xEF\xBF\xBD> <N\xEF\xBF\xBD> <N\xEF\xBF\xBD>x"},
     {"<s>the</s><|end|>", {288, 260, 289, 294}, {288, 288, 260, 289, 294, 289}, "the"},
     {"Stra\xC3\x9F""e e\xCC\x81 \xE2\x84\xAB \xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8 a\xCC\xA8\xCC\x81 q\xCC\x87\xCC\xA3", {83, 116, 114, 97, 272, 101, 32, 195, 169, 32, 195, 133, 32, 234, 176, 129, 32, 196, 133, 204, 129, 32, 113, 204, 163, 204, 135}, {288, 83, 116, 114, 97, 272, 101, 32, 195, 169, 32, 195, 133, 32, 234, 176, 129, 32, 196, 133, 204, 129, 32, 113, 204, 163, 204, 135, 289}, "Strasse \xC3\xA9 \xC3\x85 \xEA\xB0\x81 \xC4\x85\xCC\x81 q\xCC\xA3\xCC\x87"},
     {"  leading and trailing  \n\n\t tabs\xC2\xA0nbsp\xC2\x85nel", {32, 32, 108, 101, 97, 100, 264, 103, 32, 97, 110, 100, 256, 114, 97, 105, 108, 264, 103, 32, 32, 10, 10, 9, 256, 97, 98, 115, 194, 160, 110, 98, 115, 112, 194, 133, 110, 101, 108}, {288, 32, 32, 108, 101, 97, 100, 264, 103, 32, 97, 110, 100, 256, 114, 97, 105, 108, 264, 103, 32, 32, 10, 10, 9, 256, 97, 98, 115, 194, 160, 110, 98, 115, 112, 194, 133, 110, 101, 108, 289}, "  leading and trailing  \n\n\t tabs\xC2\xA0nbsp\xC2\x85nel"},
     {"123123 1234 12", {287, 287, 32, 287, 52, 32, 286}, {288, 287, 287, 32, 287, 52, 32, 286, 289}, "123123 1234 12"},
     {"", {}, {288, 289}, ""},
     {"<L>", {290}, {288, 290, 289}, ""},
     {"'s 'S 'll I'M it's", {39, 115, 32, 39, 83, 32, 39, 108, 108, 32, 73, 39, 77, 265, 116, 39, 115}, {288, 39, 115, 32, 39, 83, 32, 39, 108, 108, 32, 73, 39, 77, 265, 116, 39, 115, 289}, "'s 'S 'll I'M it's"},
     }},
    {"MetaspaceFirstAndUnknowns", kMetaspaceFirstAndUnknownsJson,
     {
     {"hello world", {36, 41}, {1, 36, 41}, "hello world"},
     {"<sep>hello <sep> world", {55, 45, 3, 55, 41}, {1, 55, 45, 3, 55, 41}, "hello  world"},
     {"h\xC3\xA9llo \xC3\xA9\xC3\xA9x", {32, 0, 15, 53, 3, 0, 0, 27}, {1, 32, 0, 15, 53, 3, 0, 0, 27}, "hllo x"},
     {"  the  a  ", {3, 50, 42, 3, 54, 3, 3}, {1, 3, 50, 42, 3, 54, 3, 3}, " the  a  "},
     {"Hello World", {3, 30, 8, 15, 53, 3, 31, 18, 21, 15, 7}, {1, 3, 30, 8, 15, 53, 3, 31, 18, 21, 15, 7}, "Hello World"},
     {"<sep>", {55}, {1, 55}, ""},
     {"a<sep>b", {54, 55, 5}, {1, 54, 55, 5}, "ab"},
     }},
    {"SubwordPrefixSuffixFusedUnk", kSubwordPrefixSuffixFusedUnkJson,
     {
     {"the cat", {146, 148}, {146, 148}, "the cat"},
     {"  abc the12cat  ", {149, 78, 146, 127, 129, 148}, {149, 78, 146, 127, 129, 148}, "ab##c the 1 2 cat"},
     {"\xC3\x89\xC3\x89the cat\xC2\xA3\xC2\xA3\xC2\xA3x", {0, 40, 16, 82, 147, 40, 0, 120}, {0, 40, 16, 82, 147, 40, 0, 120}, "##t##h##e ca##t##x"},
     {"a1b22", {73, 127, 75, 129, 129}, {73, 127, 75, 129, 129}, "a 1 b 2 2"},
     {"the", {146}, {146}, "the"},
     {"", {}, {}, ""},
     }},
    {"SplitRemoved", split_tokenizer("Removed", false),
     {
     {"abc--ab-a-b---c", {260, 259, 97, 98, 99}, {260, 259, 97, 98, 99}, "abcababc"},
     {"-ab", {259}, {259}, "ab"},
     {"ab-", {259}, {259}, "ab"},
     {"a-", {97}, {97}, "a"},
     {"--", {}, {}, ""},
     {"x", {120}, {120}, "x"},
     }},
    {"SplitRemovedInverted", split_tokenizer("Removed", true),
     {
     {"abc--ab-a-b---c", {261, 45, 45, 261, 45}, {261, 45, 45, 261, 45}, "-------"},
     {"-ab", {45}, {45}, "-"},
     {"ab-", {45}, {45}, "-"},
     {"a-", {45}, {45}, "-"},
     {"--", {261}, {261}, "--"},
     {"x", {}, {}, ""},
     }},
    {"SplitIsolated", split_tokenizer("Isolated", false),
     {
     {"abc--ab-a-b---c", {260, 261, 259, 45, 97, 45, 98, 261, 45, 99}, {260, 261, 259, 45, 97, 45, 98, 261, 45, 99}, "abc--ab-a-b---c"},
     {"-ab", {45, 259}, {45, 259}, "-ab"},
     {"ab-", {259, 45}, {259, 45}, "ab-"},
     {"a-", {97, 45}, {97, 45}, "a-"},
     {"--", {261}, {261}, "--"},
     {"x", {120}, {120}, "x"},
     }},
    {"SplitIsolatedInverted", split_tokenizer("Isolated", true),
     {
     {"abc--ab-a-b---c", {260, 261, 259, 45, 97, 45, 98, 261, 45, 99}, {260, 261, 259, 45, 97, 45, 98, 261, 45, 99}, "abc--ab-a-b---c"},
     {"-ab", {45, 259}, {45, 259}, "-ab"},
     {"ab-", {259, 45}, {259, 45}, "ab-"},
     {"a-", {97, 45}, {97, 45}, "a-"},
     {"--", {261}, {261}, "--"},
     {"x", {120}, {120}, "x"},
     }},
    {"SplitMergedWithPrevious", split_tokenizer("MergedWithPrevious", false),
     {
     {"abc--ab-a-b---c", {259, 257, 45, 97, 258, 263, 258, 261, 99}, {259, 257, 45, 97, 258, 263, 258, 261, 99}, "abc--ab-a-b---c"},
     {"-ab", {45, 259}, {45, 259}, "-ab"},
     {"ab-", {97, 258}, {97, 258}, "ab-"},
     {"a-", {263}, {263}, "a-"},
     {"--", {261}, {261}, "--"},
     {"x", {120}, {120}, "x"},
     }},
    {"SplitMergedWithPreviousInverted", split_tokenizer("MergedWithPrevious", true),
     {
     {"abc--ab-a-b---c", {260, 45, 262, 256, 45, 98, 261, 45, 99}, {260, 45, 262, 256, 45, 98, 261, 45, 99}, "abc--ab-a-b---c"},
     {"-ab", {262}, {262}, "-ab"},
     {"ab-", {259, 45}, {259, 45}, "ab-"},
     {"a-", {97, 45}, {97, 45}, "a-"},
     {"--", {261}, {261}, "--"},
     {"x", {120}, {120}, "x"},
     }},
    {"SplitMergedWithNext", split_tokenizer("MergedWithNext", false),
     {
     {"abc--ab-a-b---c", {260, 45, 262, 256, 45, 98, 261, 45, 99}, {260, 45, 262, 256, 45, 98, 261, 45, 99}, "abc--ab-a-b---c"},
     {"-ab", {262}, {262}, "-ab"},
     {"ab-", {259, 45}, {259, 45}, "ab-"},
     {"a-", {97, 45}, {97, 45}, "a-"},
     {"--", {261}, {261}, "--"},
     {"x", {120}, {120}, "x"},
     }},
    {"SplitMergedWithNextInverted", split_tokenizer("MergedWithNext", true),
     {
     {"abc--ab-a-b---c", {259, 257, 45, 97, 258, 263, 258, 261, 99}, {259, 257, 45, 97, 258, 263, 258, 261, 99}, "abc--ab-a-b---c"},
     {"-ab", {45, 259}, {45, 259}, "-ab"},
     {"ab-", {97, 258}, {97, 258}, "ab-"},
     {"a-", {263}, {263}, "a-"},
     {"--", {261}, {261}, "--"},
     {"x", {120}, {120}, "x"},
     }},
    {"SplitContiguous", split_tokenizer("Contiguous", false),
     {
     {"abc--ab-a-b---c", {260, 261, 259, 45, 97, 45, 98, 261, 45, 99}, {260, 261, 259, 45, 97, 45, 98, 261, 45, 99}, "abc--ab-a-b---c"},
     {"-ab", {45, 259}, {45, 259}, "-ab"},
     {"ab-", {259, 45}, {259, 45}, "ab-"},
     {"a-", {97, 45}, {97, 45}, "a-"},
     {"--", {261}, {261}, "--"},
     {"x", {120}, {120}, "x"},
     }},
    {"SplitContiguousInverted", split_tokenizer("Contiguous", true),
     {
     {"abc--ab-a-b---c", {260, 261, 259, 45, 97, 45, 98, 261, 45, 99}, {260, 261, 259, 45, 97, 45, 98, 261, 45, 99}, "abc--ab-a-b---c"},
     {"-ab", {45, 259}, {45, 259}, "-ab"},
     {"ab-", {259, 45}, {259, 45}, "ab-"},
     {"a-", {97, 45}, {97, 45}, "a-"},
     {"--", {261}, {261}, "--"},
     {"x", {120}, {120}, "x"},
     }},
    {"StringSplitPunctuationPrepend", kStringSplitPunctuationPrependJson,
     {
     {"hello, world...  hello!?", {32, 259, 259, 32, 44, 32, 32, 265, 32, 261, 32, 259, 32, 33, 63}, {32, 259, 259, 32, 44, 32, 32, 265, 32, 261, 32, 259, 32, 33, 63}, " hellohello ,  world ... hello !?"},
     {"a,b, c", {32, 259, 97, 32, 44, 32, 98, 32, 44, 32, 32, 99}, {32, 259, 97, 32, 44, 32, 98, 32, 44, 32, 32, 99}, " helloa , b ,  c"},
     {"", {}, {}, ""},
     {"\xC2\xBFqu\xC3\xA9?", {32, 259, 32, 194, 191, 32, 113, 117, 195, 169, 32, 63}, {32, 259, 32, 194, 191, 32, 113, 117, 195, 169, 32, 63}, " hello \xC2\xBF qu\xC3\xA9 ?"},
     }},
  };
  return suites;
}

std::string split_tokenizer(const std::string& behavior, bool invert) {
  std::string s = kSplitJsonTemplate;
  s.replace(s.find("\"@BEHAVIOR@\""), 12, "\"" + behavior + "\"");
  s.replace(s.find("\"@INVERT@\""), 10, invert ? "true" : "false");
  return s;
}

TEST(TokenizerOracle, HandMadeTokenizersMatchHuggingFace) {
  for (const OracleSuite& suite : oracle_suites()) {
    SCOPED_TRACE(suite.name);
    auto tok = Tokenizer::from_json_text(suite.json, suite.name);
    ASSERT_TRUE(tok) << tok.error().message;
    for (const OracleCase& c : suite.cases) {
      SCOPED_TRACE("input: \"" + c.input + "\"");
      auto ids = (*tok)->encode(c.input, false);
      ASSERT_TRUE(ids) << ids.error().message;
      EXPECT_TRUE(test::same_ids(*ids, c.ids, tok->get()));
      auto with = (*tok)->encode(c.input, true);
      ASSERT_TRUE(with) << with.error().message;
      EXPECT_TRUE(test::same_ids(*with, c.with_special, tok->get()));
      EXPECT_EQ((*tok)->decode(*ids), c.decoded);
    }
  }
}

TEST(TokenizerOracle, TemplateNamesBosAndEos) {
  const auto& suites = oracle_suites();
  auto tok = Tokenizer::from_json_text(suites[0].json, suites[0].name);
  ASSERT_TRUE(tok) << tok.error().message;
  EXPECT_TRUE((*tok)->adds_bos());
  EXPECT_EQ((*tok)->bos_id(), (*tok)->encode("", true)->front());
  EXPECT_EQ((*tok)->token_text(*(*tok)->bos_id()), "<s>");
  EXPECT_EQ((*tok)->token_text(*(*tok)->eos_id()), "</s>");
}

}  // namespace
}  // namespace lowbit
