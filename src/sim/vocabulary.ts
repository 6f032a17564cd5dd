/**
 * Topic vocabularies for captions, hashtags and search queries, in the five languages the simulated world
 * speaks. Words are separated by spaces here; Chinese and Japanese captions join them without spaces, as
 * real captions in those languages do (which is what makes CJK tokenisation matter for search).
 */
export const LANGUAGES = ['en', 'es', 'pt', 'ja', 'zh'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Languages written without spaces between words. */
export const UNSPACED_LANGUAGES: ReadonlySet<Language> = new Set(['ja', 'zh']);

export interface TopicVocabulary {
  readonly name: string;
  /** Relative share of the audience interested in this topic; drives the interest prior. */
  readonly audience: number;
  readonly words: Readonly<Record<Language, readonly string[]>>;
}

function topic(name: string, audience: number, words: Record<Language, string>): TopicVocabulary {
  const split = Object.fromEntries(Object.entries(words).map(([lang, text]) => [lang, text.split(' ')]));
  return { name, audience, words: split as Record<Language, string[]> };
}

export const TOPICS: readonly TopicVocabulary[] = [
  topic('comedy', 10, {
    en: 'funny prank joke skit laugh meme standup parody',
    es: 'gracioso broma chiste risa meme parodia sketch humor',
    pt: 'engraçado pegadinha piada risada meme paródia esquete humor',
    ja: 'お笑い ドッキリ ギャグ コント 爆笑 ネタ あるある モノマネ',
    zh: '搞笑 恶作剧 段子 笑话 爆笑 小品 模仿 沙雕',
  }),
  topic('dance', 8, {
    en: 'dance choreography moves challenge trend routine hiphop kpop',
    es: 'baile coreografía pasos reto tendencia salsa reguetón kpop',
    pt: 'dança coreografia passinho desafio tendência funk frevo kpop',
    ja: 'ダンス 振り付け 踊ってみた チャレンジ ステップ ヒップホップ 推し kpop',
    zh: '舞蹈 编舞 街舞 挑战 手势舞 爵士 韩舞 卡点',
  }),
  topic('music', 8, {
    en: 'song cover guitar piano singing beat acoustic concert',
    es: 'canción cover guitarra piano cantar ritmo acústico concierto',
    pt: 'música cover violão piano cantando batida acústico show',
    ja: '歌ってみた 弾いてみた ギター ピアノ 歌 ライブ 作曲 アコースティック',
    zh: '翻唱 吉他 钢琴 唱歌 原创 现场 弹唱 音乐',
  }),
  topic('food', 9, {
    en: 'recipe cooking ramen streetfood dessert baking spicy mukbang',
    es: 'receta cocina tacos comida postre horno picante antojo',
    pt: 'receita cozinha comida doce bolo churrasco feijoada lanche',
    ja: 'レシピ 料理 ラーメン 屋台 スイーツ お弁当 激辛 食べ歩き',
    zh: '美食 菜谱 火锅 小吃 甜品 烘焙 麻辣 探店',
  }),
  topic('fitness', 5, {
    en: 'workout gym training cardio yoga stretch abs running',
    es: 'ejercicio gimnasio entrenamiento cardio yoga estiramiento abdominales correr',
    pt: 'treino academia musculação cardio ioga alongamento abdominal corrida',
    ja: '筋トレ ジム トレーニング ヨガ ストレッチ 腹筋 ランニング ダイエット',
    zh: '健身 锻炼 瑜伽 拉伸 腹肌 跑步 减脂 增肌',
  }),
  topic('gaming', 7, {
    en: 'gameplay speedrun minecraft fortnite boss clutch esports stream',
    es: 'partida speedrun minecraft fortnite jefe jugada esports directo',
    pt: 'gameplay speedrun minecraft freefire chefão jogada esports live',
    ja: 'ゲーム実況 スピードラン マイクラ ボス戦 神プレイ eスポーツ 配信 攻略',
    zh: '游戏 速通 我的世界 王者荣耀 通关 高光 电竞 直播',
  }),
  topic('pets', 7, {
    en: 'cat dog puppy kitten cute pet rescue doggo',
    es: 'gato perro cachorro gatito tierno mascota rescate lomito',
    pt: 'gato cachorro filhote gatinho fofo pet resgate doguinho',
    ja: '猫 犬 子犬 子猫 かわいい ペット 保護猫 柴犬',
    zh: '猫咪 狗狗 小奶狗 小猫 萌宠 宠物 救助 柯基',
  }),
  topic('travel', 5, {
    en: 'travel trip beach hiking citywalk hotel roadtrip island',
    es: 'viaje playa senderismo ciudad hotel ruta isla mochilero',
    pt: 'viagem praia trilha cidade hotel roteiro ilha mochilão',
    ja: '旅行 絶景 ビーチ 登山 街歩き ホテル 温泉 一人旅',
    zh: '旅行 海边 徒步 城市漫步 酒店 自驾 海岛 打卡',
  }),
  topic('beauty', 5, {
    en: 'makeup skincare tutorial lipstick glow routine nails hair',
    es: 'maquillaje skincare tutorial labial brillo rutina uñas cabello',
    pt: 'maquiagem skincare tutorial batom glow rotina unhas cabelo',
    ja: 'メイク スキンケア コスメ リップ ネイル ヘアアレンジ 垢抜け プチプラ',
    zh: '化妆 护肤 教程 口红 美甲 发型 仿妆 平价',
  }),
  topic('fashion', 4, {
    en: 'outfit style streetwear haul thrift sneakers ootd vintage',
    es: 'outfit estilo moda compras segunda tenis look vintage',
    pt: 'look estilo moda comprinhas brechó tênis produção vintage',
    ja: 'コーデ ファッション 古着 購入品 スニーカー 今日のコーデ ビンテージ 韓国服',
    zh: '穿搭 时尚 街头 开箱 古着 球鞋 每日穿搭 复古',
  }),
  topic('tech', 4, {
    en: 'smartphone gadget unboxing review laptop coding ai setup',
    es: 'celular gadget unboxing reseña portátil programación ia setup',
    pt: 'celular gadget unboxing review notebook programação ia setup',
    ja: 'スマホ ガジェット 開封 レビュー パソコン プログラミング 生成ai デスク環境',
    zh: '手机 数码 开箱 测评 笔记本 编程 人工智能 桌搭',
  }),
  topic('cars', 3, {
    en: 'car supercar drift engine restoration detailing motorcycle racing',
    es: 'carro superauto derrape motor restauración detallado moto carreras',
    pt: 'carro supercarro drift motor restauração detalhamento moto corrida',
    ja: '車 スーパーカー ドリフト エンジン レストア 洗車 バイク レース',
    zh: '汽车 超跑 漂移 发动机 改装 洗车 摩托 赛车',
  }),
  topic('football', 5, {
    en: 'football soccer goal skills freekick highlights messi worldcup',
    es: 'fútbol gol jugada tiro libre resumen messi mundial',
    pt: 'futebol gol drible falta melhores momentos neymar copa',
    ja: 'サッカー ゴール テクニック フリーキック ハイライト 代表 ワールドカップ 部活',
    zh: '足球 进球 过人 任意球 集锦 梅西 世界杯 球星',
  }),
  topic('basketball', 3, {
    en: 'basketball dunk nba crossover buzzer threepointer hoops highlights',
    es: 'baloncesto clavada nba crossover canasta triple cancha jugadas',
    pt: 'basquete enterrada nba crossover cesta bola de três quadra lances',
    ja: 'バスケ ダンク nba スリーポイント ブザービーター ドリブル 部活 ハイライト',
    zh: '篮球 扣篮 nba 三分 绝杀 运球 街球 集锦',
  }),
  topic('diy', 3, {
    en: 'diy crafts woodworking upcycle repair homemade build tools',
    es: 'manualidades carpintería reciclaje reparación casero construir herramientas bricolaje',
    pt: 'artesanato marcenaria reciclagem conserto caseiro construir ferramentas faça você mesmo',
    ja: 'diy 手作り 木工 リメイク 修理 自作 工具 100均',
    zh: '手工 木工 改造 修理 自制 工具 旧物改造 手作',
  }),
  topic('gardening', 2, {
    en: 'garden plants houseplant harvest seeds flowers compost balcony',
    es: 'jardín plantas huerto cosecha semillas flores compost balcón',
    pt: 'jardim plantas horta colheita sementes flores compostagem varanda',
    ja: 'ガーデニング 観葉植物 家庭菜園 収穫 種まき 花 ベランダ 多肉植物',
    zh: '园艺 绿植 种菜 丰收 播种 鲜花 阳台 多肉',
  }),
  topic('science', 3, {
    en: 'science experiment physics chemistry space astronomy facts biology',
    es: 'ciencia experimento física química espacio astronomía datos biología',
    pt: 'ciência experimento física química espaço astronomia curiosidades biologia',
    ja: '科学 実験 物理 化学 宇宙 天体観測 雑学 生物',
    zh: '科学 实验 物理 化学 太空 天文 冷知识 生物',
  }),
  topic('finance', 3, {
    en: 'money investing stocks budget crypto saving sidehustle economy',
    es: 'dinero inversión acciones presupuesto cripto ahorro negocio economía',
    pt: 'dinheiro investimento ações orçamento cripto economizar renda extra economia',
    ja: 'お金 投資 株 家計簿 仮想通貨 節約 副業 経済',
    zh: '理财 投资 股票 记账 加密货币 省钱 副业 经济',
  }),
  topic('books', 2, {
    en: 'books reading booktok novel fantasy library review romance',
    es: 'libros lectura booktok novela fantasía biblioteca reseña romance',
    pt: 'livros leitura booktok romance fantasia biblioteca resenha literatura',
    ja: '読書 本 小説 ファンタジー 図書館 書評 漫画 おすすめ本',
    zh: '读书 书单 小说 奇幻 图书馆 书评 好书推荐 阅读',
  }),
  topic('movies', 4, {
    en: 'movie film trailer review scene actor cinema series',
    es: 'película cine tráiler reseña escena actor serie estreno',
    pt: 'filme cinema trailer crítica cena ator série estreia',
    ja: '映画 予告 レビュー 名シーン 俳優 ドラマ 考察 新作',
    zh: '电影 预告 影评 名场面 演员 电视剧 解说 新片',
  }),
  topic('art', 3, {
    en: 'drawing painting sketch illustration digitalart watercolor timelapse artist',
    es: 'dibujo pintura boceto ilustración arte digital acuarela proceso artista',
    pt: 'desenho pintura esboço ilustração arte digital aquarela processo artista',
    ja: 'イラスト 絵画 お絵描き デジタルアート 水彩 メイキング 模写 作品',
    zh: '绘画 插画 素描 板绘 水彩 过程 临摹 作品',
  }),
  topic('anime', 5, {
    en: 'anime manga cosplay otaku episode opening fanart waifu',
    es: 'anime manga cosplay otaku episodio opening fanart personaje',
    pt: 'anime mangá cosplay otaku episódio abertura fanart personagem',
    ja: 'アニメ 漫画 コスプレ オタク 最新話 主題歌 ファンアート 推し活',
    zh: '动漫 漫画 cos 二次元 新番 主题曲 同人 番剧',
  }),
  topic('parenting', 2, {
    en: 'baby toddler parenting mom dad family kids routine',
    es: 'bebé niños crianza mamá papá familia hijos rutina',
    pt: 'bebê criança maternidade mãe pai família filhos rotina',
    ja: '赤ちゃん 育児 子育て ママ パパ 家族 こども 成長記録',
    zh: '宝宝 育儿 带娃 宝妈 奶爸 家庭 萌娃 成长',
  }),
  topic('nature', 3, {
    en: 'nature wildlife ocean mountains sunset forest birds waterfall',
    es: 'naturaleza vida salvaje océano montañas atardecer bosque aves cascada',
    pt: 'natureza vida selvagem oceano montanhas pôr do sol floresta pássaros cachoeira',
    ja: '自然 野生動物 海 山 夕焼け 森 野鳥 滝',
    zh: '自然 野生动物 大海 山川 日落 森林 鸟类 瀑布',
  }),
];

/** Words that appear in captions of any topic. */
export const GENERIC_WORDS: Readonly<Record<Language, readonly string[]>> = {
  en: 'best ever today wait for it must see part pov new try this so good'.split(' '),
  es: 'mejor hoy espera parte nuevo prueba esto increíble mira pov'.split(' '),
  pt: 'melhor hoje espera parte novo tenta isso incrível olha pov'.split(' '),
  ja: '最高 今日 見て 新作 やってみた 神 まさか 初めて'.split(' '),
  zh: '最好 今天 一定要看 新 试试 绝了 第一次 宝藏'.split(' '),
};

/** Platform-wide hashtags creators add regardless of topic. */
export const GENERIC_HASHTAGS: Readonly<Record<Language, readonly string[]>> = {
  en: ['fyp', 'foryou', 'viral', 'trending'],
  es: ['fyp', 'parati', 'viral', 'tendencia'],
  pt: ['fyp', 'foryou', 'viral', 'tendencia'],
  ja: ['fyp', 'おすすめ', 'バズれ', 'トレンド'],
  zh: ['fyp', '推荐', '热门', '上热门'],
};

export const EMOJI = ['😂', '🔥', '😍', '✨', '🙌', '👀', '💯', '🥹', '😱', '❤️'];

/** Countries of the simulated audience with their main language and share of users. */
export const COUNTRIES: readonly { code: string; language: Language; share: number }[] = [
  { code: 'US', language: 'en', share: 20 },
  { code: 'GB', language: 'en', share: 5 },
  { code: 'CA', language: 'en', share: 3 },
  { code: 'AU', language: 'en', share: 2 },
  { code: 'IN', language: 'en', share: 6 },
  { code: 'MX', language: 'es', share: 8 },
  { code: 'ES', language: 'es', share: 4 },
  { code: 'AR', language: 'es', share: 3 },
  { code: 'CO', language: 'es', share: 3 },
  { code: 'BR', language: 'pt', share: 11 },
  { code: 'PT', language: 'pt', share: 2 },
  { code: 'JP', language: 'ja', share: 11 },
  { code: 'CN', language: 'zh', share: 14 },
  { code: 'TW', language: 'zh', share: 4 },
  { code: 'SG', language: 'zh', share: 1 },
];
