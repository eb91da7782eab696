/**
 * Word lists per language, most frequent first (the text model samples them with a Zipf law), plus
 * hashtags, emoji and link domains. Space-separated lists keep the file readable; languages written
 * without spaces (ja, zh) list phrase fragments that are joined directly.
 */

export interface LanguageVocab {
  /** BCP-47 code written to `langs`. */
  code: string;
  /** Whether tokens are separated by spaces. */
  spaced: boolean;
  words: readonly string[];
  hashtags: readonly string[];
  /** Sentence endings. */
  ends: readonly string[];
  /** Whether long-tail invented words (Latin syllables) fit this language. */
  latin: boolean;
  /** Common multi-word chunks, most frequent first, so phrase searches have natural hits. */
  phrases: readonly string[];
}

const lines = (s: string): string[] =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

const split = (s: string): string[] => s.trim().split(/\s+/);

export const VOCAB: Record<string, LanguageVocab> = {
  en: {
    code: 'en',
    phrases: lines(`
      good morning everyone
      I can't believe
      this is so
      thank you so much
      I don't know
      at the same time
      I love this
      to be honest
      what a day
      I need to
      going to be
      it's been a long day
      happy birthday
      one of the best
      right now
      for the first time
      can't wait to see
      this is the way
      I think we
      the end of the world
      check this out
      in the morning
      all of us
      new blog post
      the rest of the
      on the other hand
      please share
      out of nowhere
      just finished reading
      can we talk about`),
    spaced: true,
    latin: true,
    ends: ['.', '.', '.', '!', '?', '…', '!!', ''],
    hashtags: split(`art photography bluesky music gaming news politics books writing caturday dogsofbluesky
      science booksky gamedev indiedev anime vtuber nature birds photo history climate tech ai football nba
      f1 poetry horror fanart furry ttrpg dnd movies tv queer trans blacksky astronomy gardening cooking food`),
    words: split(`the to and a of I is in you it that for this on my be with not just have are so but was
      me like at all what if they we can do your get this one about no will out up now people know when more
      think good time it's don't really day how would from there who as an by or going want make even today
      see back than much because also still love new need only then got here them too been some right thing
      over work way why never something did were had very being year great lol feel look into other our yes
      she he his her its after last first us any every post world could should said say well many life long
      little same last thank thanks best actually probably pretty already always maybe sure nothing everyone
      lot again old next week night home morning tomorrow yesterday weekend happy sad tired excited game play
      music song album art draw drawing photo picture book read reading write writing movie show watch episode
      season news story trump government election vote court law police war state country city president
      america american congress democracy bill money pay price cost job school kids family friends dog cat
      coffee food dinner lunch breakfast rain sun weather summer winter hot cold water fire light dark
      beautiful cute funny weird wild crazy hard easy real fake true free open big small high low full
      bluesky twitter site app online post posts thread follow followers account feed timeline block mute
      honestly literally basically absolutely genuinely seriously finally totally definitely
      climate science data research study paper model computer code software bug release update version
      team season match goal win lose fans player league coach race car train bus flight trip travel
      beach mountain garden flowers birds tree forest river ocean moon stars sky cloud storm snow
      friend brother sister mom dad baby wife husband partner boss office meeting email phone
      hope wish believe remember forget understand explain agree disagree wonder worry care
      amazing awesome terrible horrible wonderful perfect lovely gorgeous brilliant boring
      everything anything someone anyone somewhere nowhere together alone outside inside
      history future past present moment minute hour second day's month year's decade century
      question answer problem solution reason point idea plan chance choice change`),
  },
  ja: {
    code: 'ja',
    phrases: lines(`
      おはようございます
      お疲れ様です
      ありがとうございます
      よろしくお願いします
      今日も一日
      楽しみにしてます
      めっちゃかわいい
      本当にありがとう
      久しぶりに
      描きました`),
    spaced: false,
    latin: false,
    ends: ['。', '！', 'w', '…', '〜', '！？', '', '笑'],
    hashtags: split(`イラスト 絵描きさんと繋がりたい 今日の一枚 写真 猫 ブルスコ 創作 ゲーム アニメ 読書 VTuber 料理`),
    words: split(`今日は 本当に ありがとう かわいい 楽しかった ちょっと すごい 明日 みんな 仕事 疲れた おはよう
      おやすみ 嬉しい 好き 大好き 猫 ご飯 美味しい 待って 知らなかった 観たい 行きたい 頑張る 新しい 描いた
      イラスト 写真 ゲーム 配信 ライブ 推し 天気 雨 暑い 寒い 眠い 週末 休み 友達 映画 アニメ 漫画 音楽
      コーヒー ラーメン 電車 東京 大阪 朝から 夜に なんか やっぱり めっちゃ たぶん でも だから それで
      ブルスコ 投稿 フォロー ありがたい 最高 無理 やばい 気がする と思う かもしれない ですね でした
      します ました ている てた よかった 見て 聞いて 読んだ 作った 買った 届いた 始まった 終わった`),
  },
  pt: {
    code: 'pt',
    phrases: lines(`
      bom dia
      boa noite
      não acredito
      muito obrigado
      ao mesmo tempo
      eu não sei
      que saudade
      tô com fome
      vamos lá
      feliz aniversário`),
    spaced: true,
    latin: true,
    ends: ['.', '!', '?', '...', 'kkkk', '!!', ''],
    hashtags: split(`brasil arte fotografia futebol música livros politica bolsonaro lula bbb carnaval`),
    words: split(`de que não o a e é do da em um uma para com eu os se mais mas muito já foi isso tá ele ela
      você gente hoje ainda quando porque bem tudo nada agora também tem ser ter vai estou era só aqui
      dia noite amanhã ontem semana casa trabalho amigo amiga amor vida mundo coisa tempo ano
      brasil governo presidente eleição jogo time futebol música filme série livro café cerveja
      calor chuva praia cidade rua feliz triste cansado bonito lindo legal incrível saudade verdade
      obrigado obrigada bom boa dia noite cara mano sério demais nunca sempre talvez pessoas coração`),
  },
  es: {
    code: 'es',
    phrases: lines(`
      buenos días
      buenas noches
      no puedo creer
      muchas gracias
      al mismo tiempo
      no sé
      qué bonito
      vamos a ver
      feliz cumpleaños
      por favor`),
    spaced: true,
    latin: true,
    ends: ['.', '!', '?', '...', 'jajaja', '', '!!'],
    hashtags: split(`arte fotografía fútbol música libros política méxico argentina españa cine`),
    words: split(`de la que el en y a los se no un por con una las para es lo más pero su al le como
      ya muy todo esta este hay ser si me mi bien sí también cuando porque nada hoy ahora siempre
      nunca gente vida día noche mañana ayer semana casa trabajo amigo amiga amor mundo cosa tiempo año
      gobierno presidente elecciones partido fútbol equipo música película serie libro café cerveza
      calor lluvia playa ciudad calle feliz triste cansado bonito precioso increíble verdad gracias
      bueno buena mucho poco otro otra mejor peor querido corazón hermano señor dios madre padre`),
  },
  de: {
    code: 'de',
    phrases: lines(`
      guten Morgen
      vielen Dank
      ich weiß nicht
      auf jeden Fall
      gute Nacht
      zum ersten Mal
      keine Ahnung
      schönes Wochenende
      alles Gute
      ich glaube`),
    spaced: true,
    latin: true,
    ends: ['.', '!', '?', '…', '', '!!'],
    hashtags: split(`kunst fotografie fußball musik bücher politik berlin afd klimaschutz wissenschaft`),
    words: split(`die der und in zu den das nicht von sie ist des sich mit dem dass er es ein ich auf so
      eine auch als an nach wie im für man aber aus durch wenn nur war noch werden bei hat wir was wird
      sein einen welche sind oder zur um haben einer mir über ihm diese einem ihr uns da zum kann doch
      heute morgen gestern woche haus arbeit freund freundin liebe welt sache zeit jahr leben
      regierung kanzler wahl partei fußball mannschaft musik film serie buch kaffee bier
      wetter regen sonne stadt straße glücklich traurig müde schön toll unglaublich wirklich danke
      gerade eigentlich schon immer wieder vielleicht genau natürlich leider endlich bahn verspätung`),
  },
  ko: {
    code: 'ko',
    phrases: lines(`
      좋은 아침
      감사합니다 여러분
      오늘도 화이팅
      정말 좋아요
      생일 축하해요
      잘 자요`),
    spaced: true,
    latin: false,
    ends: ['.', '!', '~', 'ㅋㅋㅋ', 'ㅠㅠ', '', '!!'],
    hashtags: split(`그림 사진 일상 게임 음악 고양이 트친소 팬아트`),
    words: split(`오늘 정말 너무 진짜 그냥 이거 저는 우리 사람 사람들 시간 생각 하고 있어요 했어요 좋아요 좋다
      감사합니다 안녕하세요 고양이 강아지 커피 밥 점심 저녁 내일 어제 주말 친구 가족 회사 학교 일 게임
      음악 노래 영화 드라마 그림 사진 날씨 비 덥다 춥다 행복 피곤 귀엽다 예쁘다 이쁘시네용 최고 대박
      근데 그래서 하지만 아니 네 응 왜 뭐 어디 언제 같이 혼자 다시 처음 마지막 새로운 블루스카이`),
  },
  fr: {
    code: 'fr',
    phrases: lines(`
      bonne journée
      merci beaucoup
      je ne sais pas
      en même temps
      bonne nuit
      c'est trop bien
      à demain
      tout le monde`),
    spaced: true,
    latin: true,
    ends: ['.', ' !', ' ?', '…', '', ' !!'],
    hashtags: split(`art photographie musique livres politique paris cinéma football science`),
    words: split(`de la le et les des en un une du est que pour qui dans pas au sur il elle ne se ce plus
      par je on avec mais nous vous ils tout comme sont fait être bien aussi très encore toujours jamais
      aujourd'hui demain hier semaine maison travail ami amie amour vie monde chose temps année
      gouvernement président élection parti musique film série livre café bière pluie soleil ville
      rue heureux triste fatigué beau belle génial incroyable vraiment merci bonjour bonsoir enfin`),
  },
  ru: {
    code: 'ru',
    phrases: lines(`
      доброе утро
      большое спасибо
      я не знаю
      спокойной ночи
      всем привет`),
    spaced: true,
    latin: false,
    ends: ['.', '!', '?', '…', '', ')))'],
    hashtags: split(`искусство фото музыка книги кот`),
    words: split(`и в не на я что он с как это а по но все она так его к у же вы за бы от мы то
      сегодня завтра вчера очень просто тоже уже ещё когда потому люди время жизнь день ночь дом работа
      друг любовь мир кот кофе погода дождь город хорошо плохо красиво спасибо привет может надо`),
  },
  zh: {
    code: 'zh',
    phrases: lines(`
      早上好
      谢谢大家
      晚安
      今天天气很好
      生日快乐`),
    spaced: false,
    latin: false,
    ends: ['。', '！', '？', '…', '', '哈哈'],
    hashtags: split(`摄影 插画 日常 音乐 读书`),
    words: split(`今天 我们 真的 非常 喜欢 一个 什么 没有 这个 那个 时候 朋友 工作 吃饭 咖啡 天气 下雨 城市
      电影 音乐 游戏 看到 觉得 知道 可以 还是 已经 因为 所以 但是 如果 大家 自己 开心 好看 可爱 晚安`),
  },
  it: {
    code: 'it',
    phrases: lines(`
      buongiorno a tutti
      grazie mille
      non lo so
      buona notte
      allo stesso tempo`),
    spaced: true,
    latin: true,
    ends: ['.', '!', '?', '...', ''],
    hashtags: split(`arte fotografia calcio musica libri politica roma`),
    words: split(`di che e la il un a per in è non una sono mi ma con si ho lo ci come anche più questo
      oggi domani ieri settimana casa lavoro amico amore vita mondo cosa tempo anno governo partita
      musica film libro caffè pioggia sole città bello bella grazie davvero sempre mai ancora`),
  },
};

/** Share of posts per language (from public Bluesky language statistics, rounded). */
export const LANGUAGE_WEIGHTS: ReadonlyArray<readonly [string, number]> = [
  ['en', 52],
  ['ja', 15],
  ['pt', 9],
  ['es', 5],
  ['de', 4],
  ['ko', 3],
  ['fr', 3],
  ['ru', 1.5],
  ['zh', 1.5],
  ['it', 2],
];

export const EMOJI = split(`😂 ❤️ 😭 🥺 ✨ 🔥 😍 🙏 💙 🦋 😊 👀 💀 🎉 😅 🤔 👍 💦 🌸 🐱 🐶 ☕ 🌈 😎 🤣 💕 😢 🙃 😴 🎨 📸 🎶 ⚽ 🏳️‍🌈 🏳️‍⚧️ 👩‍💻 🇧🇷 🇯🇵 🇺🇸 👍🏽 🤷‍♀️`);

export const LINK_DOMAINS = split(`www.youtube.com youtu.be www.nytimes.com www.theguardian.com apnews.com www.reuters.com
  www.bbc.co.uk github.com en.wikipedia.org www.tumblr.com open.spotify.com www.twitch.tv substack.com
  www.washingtonpost.com www.instagram.com bsky.app www.folha.uol.com.br www.spiegel.de www3.nhk.or.jp
  ko-fi.com www.patreon.com arxiv.org www.nature.com store.steampowered.com`);

/** Syllables for invented long-tail words; they never contain 'q' or 'x' (reserved for planted words). */
export const SYLLABLES = split(`ba be bi bo bu ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu ra re ri
  ro ru sa se si so su ta te ti to tu va ve vi vo vu dor fen gal hin jor lem mar nel pin ros tal ven wil yan zel
  bran cor dre fla gri kro plo shu tre vel`);

/** Words used for invented handles and display names. */
export const NAME_PARTS = split(`alex sam jo kai mika lena noah yuki hana ren sora luca mia ana joao maria carlos
  sofia emma max felix julia lisa tom ben kate leo nina omar sara ivan olga min ji seo woo taro kenji
  pixel cosmic night moon star fox cat wolf bear owl crow frog tea coffee book ink paper river sky`);

export const CUSTOM_TLDS = split(`com net org dev io xyz art blog social me page fyi`);
