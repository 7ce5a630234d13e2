"""What happened on the demo's main projects, in the agency's own words.

One story per project (keyed by the project's name in ``portal.seed.CLIENTS``).
Days are counted back from the day the seed runs; values of check-ins are given as
how far *behind* the expected line they are, in percent of the planned change
(negative: ahead), so each goal's status comes out the same whatever the date.
"""

from __future__ import annotations

from decimal import Decimal

D = Decimal

STORIES: dict[str, dict] = {
    # --- Anadolu Kahve Kavurma (Türkçe) --------------------------------------------------
    "E-ticaret sitesi yenileme": {
        "goals": [
            {
                "title": "Online siparişleri artırmak",
                "why": "Kavurmahane kapasitesi arttı; yeni makinenin kendini bir yılda ödemesi için online satış büyümeli.",
                "metric_name": "Aylık online sipariş",
                "baseline": D(420),
                "target": D(600),
                "unit": "orders",
                "target_in": 80,
                "proposed": 38,
                "agreed": 35,
                "assumptions": [
                    ("Ürün fotoğrafları kasım ortasına kadar teslim edilir.", True),
                    ("Kargo ücretleri kampanya süresince değişmez.", None),
                ],
                "check_ins": [
                    (28, -2, ""),
                    (21, 1, ""),
                    (14, -3, "Kasım bülteni iyi çalıştı."),
                    (7, 0, ""),
                    (2, -4, "Yeni ürün sayfaları yayında; dönüşüm arttı."),
                ],
                "comments": [
                    ("client", "Kasım rakamları sevindirici. Aralık'ta yılbaşı paketleri de eklenince hedefi geçebilir miyiz?"),
                    ("agency", "Mümkün görünüyor Ayşe Hanım. Yılbaşı paketlerini 8 Aralık'ta yayına alırsak etkisini bir sonraki ara ölçümde göreceğiz."),
                ],
            },
            {
                "title": "Sepet terk oranını düşürmek",
                "why": "Müşterilerin dörtte üçü ödeme adımında vazgeçiyor; en hızlı kazanç burada.",
                "metric_name": "Sepet terk oranı",
                "baseline": D(78),
                "target": D(60),
                "unit": "%",
                "target_in": 50,
                "proposed": 32,
                "agreed": 30,
                "assumptions": [("Ödeme altyapısı sözleşmesi ekim sonunda imzalanır.", None)],
                "check_ins": [
                    (21, 5, ""),
                    (14, 18, "Yeni ödeme adımı henüz canlıda değil."),
                    (3, 30, "Ödeme sağlayıcısının onayı gecikti; eski akış devam ediyor."),
                ],
                "comments": [
                    (
                        "agency",
                        "Dürüst olmak gerekirse bu hedefte geride kaldık: ödeme sağlayıcısının canlı ortam onayı iki haftadır bekliyor. "
                        "Haftalık güncellemede ayrıntısı var.",
                    ),
                ],
            },
            {
                "title": "Abonelik paketleri satışta",
                "why": "Düzenli müşteriler her ay aynı kahveyi elle sipariş ediyor; abonelik hem onlara hem nakit akışına iyi gelir.",
                "done_when": "Aylık, üç aylık ve altı aylık paketler sitede satın alınabiliyor ve ilk yenileme ödemeleri otomatik alınıyor.",
                "target_in": 45,
                "proposed": 2,
                "assumptions": [("Abonelik fiyatlarını Anadolu Kahve 5 Aralık'a kadar netleştirir.", None)],
            },
        ],
        "assets": {
            "overdue": (
                "Ürün fotoğrafları (12 yeni çekirdek)",
                "Beyaz fonda, en az 2000 px genişliğinde; her çekirdek için ön ve arka paket fotoğrafı.",
                ["images"],
                20,
                6,
            ),
            "open": ("Kargo ve iade politikası metni", "Hukuk ekibinizin onayladığı son hâli; Word ya da PDF olabilir.", ["documents"], 4, -6),
            "accepted": (
                "Logo (şeffaf arka planlı PNG)",
                "Sitenin üst kısmında kullanılacak; koyu ve açık zemin için iki sürüm varsa ikisini de yükleyin.",
                ["images"],
                40,
                28,
                "anadolu-logo.png",
            ),
            "returned": (
                "Kurucu fotoğrafı (Hakkımızda sayfası)",
                "Yatay, doğal ışıkta çekilmiş bir fotoğraf.",
                ["images"],
                18,
                8,
                "ayse-kaya.png",
                "Fotoğraf çok küçük (400 px). Sayfada bulanık görünür; en az 1600 px genişliğinde bir kopya gönderebilir misiniz?",
            ),
        },
        "deliverables": {
            "approved": (
                "Ana sayfa tasarımı",
                "Masaüstü ve mobil ana sayfa, yeni kampanya alanıyla.",
                26,
                20,
                18,
                "anasayfa-taslak.png",
                "Figma dosyası https://www.figma.com/file/anadolu-anasayfa",
                "Ekipçe baktık, çok beğendik. Onaylıyoruz.",
            ),
            "changes": (
                "Ürün detay sayfası",
                "Çekirdek bilgisi, öğütme seçimi ve abonelik kutusuyla ürün sayfası.",
                20,
                14,
                12,
                "Prototip https://staging.anadolukahve.example/urun/yirgacheffe",
                "Öğütme seçenekleri eksik: Türk kahvesi ve French press mutlaka olmalı. Ayrıca fiyat mobilde ikinci ekranda kalıyor.",
                "off_brief",
                5,
                "Türk kahvesi ve French press öğütme seçenekleri eklendi; fiyat ve sepete ekle düğmesi mobilde ilk ekrana alındı.",
                "Prototip v2 https://staging.anadolukahve.example/urun/yirgacheffe?v=2",
            ),
            "review": (
                "Ödeme akışı",
                "Üç adımlı yeni ödeme: adres, kargo, ödeme. Misafir olarak ödeme de var.",
                6,
                1,
                "İlk sürüm: misafir ödemesi ve kayıtlı adres seçimi çalışıyor. Test kartıyla deneyebilirsiniz (4242 4242 4242 4242).",
                "Test ortamı https://staging.anadolukahve.example/odeme\nAkış şeması https://www.figma.com/file/anadolu-odeme",
            ),
        },
        "updates": [
            {
                "days": 14,
                "title": "Tasarım haftası: ana sayfa onaylandı",
                "body": "Bu hafta tasarım tarafını tamamladık; geliştirme takvimi planlandığı gibi ilerliyor.",
                "done": "- Ana sayfa tasarımı onaylandı\n- Ürün detay sayfasının ilk sürümü hazırlandı\n- Logo dosyaları alındı ve işlendi",
                "next_steps": "- Ürün detay sayfasını incelemenize sunmak\n- Ödeme adımlarının kodlamasına başlamak",
                "blockers": "",
                "needs": "Ürün fotoğraflarına önümüzdeki hafta ihtiyacımız olacak.",
            },
            {
                "days": 7,
                "title": "Ürün sayfası revizyonu ve ödeme altyapısı",
                "body": "Ürün sayfası için geri bildiriminizi aldık ve revizyona başladık.",
                "done": "- Ürün sayfası geri bildirimleri toparlandı\n- Ödeme sağlayıcısına canlı ortam başvurusu yapıldı",
                "next_steps": "- Ürün sayfası v2\n- Ödeme akışının ilk sürümü",
                "blockers": "Ödeme sağlayıcısının canlı ortam onayı bekleniyor; onay gelmeden yeni ödeme akışını yayına alamıyoruz.",
                "needs": "",
                "ack": ("approver", "accurate", ""),
                "comments": [
                    ("member", "Ödeme sağlayıcısıyla bizim de konuşmamız gerekir mi? Gerekirse Mert arayabilir."),
                    ("agency", "Teşekkürler Mert Bey, şimdilik gerek yok; yarın tekrar arayacağız, yanıt gelmezse sizden destek isteyeceğiz."),
                ],
            },
            {
                "days": 2,
                "title": "Ödeme akışı incelemenizde, sepet terk oranında gecikme",
                "body": "Önce kötü haber: sepet terk oranı hedefinin gerisindeyiz, çünkü yeni ödeme adımı hâlâ canlıda değil.",
                "done": "- Ürün sayfası v2 incelemenize sunuldu\n- Ödeme akışının ilk sürümü test ortamında",
                "next_steps": "- Ödeme akışı onayınızdan sonra canlıya geçiş\n- Yılbaşı paketleri için kampanya alanı",
                "blockers": "Ödeme sağlayıcısının onayı iki haftadır gecikiyor. Sepet terk oranı hedefi bu yüzden risk altında.",
                "needs": "Ödeme akışını bu hafta inceleyebilirseniz canlıya geçişi öne alabiliriz.",
            },
        ],
        "draft": {
            "title": "Yılbaşı paketleri: kampanya alanı hazırlığı",
            "body": "Taslak: yılbaşı kampanya alanı ve banner ölçüleri. Ayşe Hanım'la telefonda konuşmadan yayınlamayalım.",
            "next_steps": "- Banner ölçülerini paylaşmak\n- Kampanya başlangıç tarihini netleştirmek",
        },
        "weekly_note": (
            "Ödeme sağlayıcısının onayını bu hafta almak için her gün takipteyiz. "
            "Ürün sayfası v2'yi inceleyebilirseniz yılbaşı paketlerine zamanında yetişiriz."
        ),
        "expectation": {
            "expected": "Yeni ödeme akışı 10 Kasım'da canlıda olacaktı; sepet terk oranının kasım sonunda %70'in altına inmesi bekleniyordu.",
            "reality": "Ödeme sağlayıcısının canlı ortam onayı hâlâ gelmedi; eski akış çalışıyor ve terk oranı %77 civarında.",
            "variance": "İki hafta gecikme",
            "cause": "Sağlayıcının evrak kontrolü uzadı; şirket imza sirkülerinin güncel kopyası istendi.",
            "impact": "Yılbaşı satışlarının ilk haftası eski ödeme akışıyla geçebilir; sepet terkinden gelen kaybın sürmesi demek.",
            "next_step": "İmza sirkülerini Mert Bey'den aldık, sağlayıcıya iletildi. Onay gelir gelmez aynı gün canlıya geçiyoruz.",
            "assessment": "worse",
            "visibility": "shared",
        },
    },
    # --- Northwind Outdoor Co. (English) ----------------------------------------------------
    "Spring catalogue microsite": {
        "goals": [
            {
                "title": "More newsletter sign-ups from the catalogue",
                "why": "The spring range launches to newsletter subscribers first; every sign-up is a warm lead for the season.",
                "metric_name": "Newsletter sign-ups per month",
                "baseline": D(150),
                "target": D(400),
                "unit": "leads",
                "target_in": 60,
                "proposed": 27,
                "agreed": 24,
                "assumptions": [
                    ("Northwind promotes the catalogue in the February newsletter.", True),
                    ("The sign-up incentive (10% off the first order) stays in place until launch.", None),
                ],
                "check_ins": [(21, 0, ""), (14, -2, "Soft launch to staff went well."), (7, -1, ""), (2, -3, "The preview page is converting at 4.1%.")],
                "comments": [
                    ("client", "Great to see this moving. Can we break the numbers down by channel next time?"),
                    ("agency", "Yes, Tom. From the next check-in we'll add newsletter, social and organic separately."),
                ],
            },
            {
                "title": "Faster catalogue pages on mobile",
                "why": "Most spring traffic comes from phones on the trail; a slow page loses them before the first product shows.",
                "metric_name": "Largest contentful paint on mobile",
                "baseline": D(4200),
                "target": D(2500),
                "unit": "ms",
                "target_in": 40,
                "proposed": 23,
                "agreed": 22,
                "assumptions": [("The hero video can be cut to 15 seconds.", None)],
                "check_ins": [
                    (15, 4, ""),
                    (8, 12, "Product images are now WebP; the hero video is still 6 MB."),
                    (2, 18, "Waiting for the shorter hero video before we can compress it."),
                ],
                "comments": [
                    ("agency", "Flagging early: we're behind on page speed because the hero video is still the full cut. Details in the weekly update."),
                ],
            },
            {
                "title": "Store locator covers every stockist",
                "why": "Customers who can't buy online want to know where to try the boots on.",
                "done_when": "All 48 stockists appear with address and opening hours, and Northwind's retail team has checked the list.",
                "target_in": 35,
                "proposed": 3,
                "assumptions": [("Northwind sends the stockist list as a spreadsheet by 5 December.", None)],
            },
        ],
        "assets": {
            "overdue": (
                "Stockist list with opening hours",
                "One row per shop: name, address, phone, opening hours. A spreadsheet is perfect.",
                ["documents"],
                16,
                5,
            ),
            "open": (
                "Legal wording for sustainability claims",
                "The approved wording for the recycled-materials claims on the jacket pages.",
                ["documents"],
                3,
                -7,
            ),
            "accepted": ("Spring range product shots", "The lookbook images, at least 2000 px wide.", ["images"], 25, 18, "spring-lookbook.png"),
            "returned": (
                "Brand guidelines",
                "The latest brand book, including the colour palette for the spring range.",
                ["images", "documents"],
                14,
                7,
                "brand-colours.png",
                "This looks like last year's palette (no 'Moss' green). Could you send the 2027 spring version?",
            ),
        },
        "deliverables": {
            "approved": (
                "Catalogue landing page",
                "The landing page design with the spring hero and range highlights.",
                22,
                16,
                14,
                "landing-page.png",
                "Figma https://www.figma.com/file/northwind-spring-landing",
                "Looks great. Approved, and thank you for the quick turnaround.",
            ),
            "changes": (
                "Product page template",
                "The template every product uses: gallery, sizes, materials and stockists.",
                18,
                12,
                10,
                "Prototype https://staging.northwind.example/catalogue/ridge-jacket",
                "The size guide must open in place, not on a new page, and the materials section needs the legal wording for recycled fabrics.",
                "quality",
                4,
                "Size guide now opens in a panel on the same page; the materials section has a placeholder for the legal wording.",
                "Prototype v2 https://staging.northwind.example/catalogue/ridge-jacket?v=2",
            ),
            "review": (
                "Store locator",
                "Map and list of stockists, searchable by town or postcode.",
                6,
                1,
                "First version with the 30 stockists we have so far. Search works by town and postcode; 'Near me' asks for location permission.",
                "Staging https://staging.northwind.example/stockists",
            ),
        },
        "updates": [
            {
                "days": 13,
                "title": "Landing page approved, product template in progress",
                "body": "A good week: the landing page is signed off and the product template is taking shape.",
                "done": "- Landing page approved\n- Product shots received and processed\n- Newsletter sign-up block live on the preview",
                "next_steps": "- Product page template for review\n- Start the store locator",
                "blockers": "",
                "needs": "The stockist list, so the store locator can be built with real data.",
            },
            {
                "days": 6,
                "title": "Product template v2 and page speed",
                "body": "We've acted on Priya's feedback on the product template; v2 follows this week.",
                "done": "- Size guide moved into a panel\n- Product images converted to WebP (40% smaller)",
                "next_steps": "- Submit product template v2\n- Store locator first version",
                "blockers": "The hero video is 6 MB; mobile pages stay slow until we have the shorter cut.",
                "needs": "",
                "ack": ("approver", "accurate", ""),
                "comments": [
                    ("member", "I'll chase the video agency today for the 15-second cut."),
                    ("agency", "Thanks Priya, that's the one thing holding page speed back."),
                ],
            },
            {
                "days": 2,
                "title": "Store locator ready to review; page speed behind plan",
                "body": "Bad news first: mobile load time is behind plan, because the hero video is still the full cut.",
                "done": "- Product template v2 submitted\n- Store locator first version on staging",
                "next_steps": "- Compress the hero video as soon as the short cut arrives\n- Add the remaining stockists",
                "blockers": "Hero video (short cut) from the video agency; stockist list still incomplete.",
                "needs": "Your review of the store locator and product template v2 this week.",
            },
        ],
        "draft": {
            "title": "Launch checklist (draft)",
            "body": "Draft for Tom: the launch checklist, from redirects to the newsletter send.",
            "next_steps": "- Agree the launch date\n- Book the newsletter slot",
        },
        "weekly_note": (
            "Two reviews are waiting on your side this week (store locator, product template v2). "
            "A quick look from either of you keeps the February launch safe."
        ),
        "expectation": {
            "expected": "Mobile pages under 3 seconds (LCP) by the end of November, as promised at kick-off.",
            "reality": "Median LCP is 3.9 seconds; images are optimised but the hero video is still the full 6 MB cut.",
            "variance": "About 1 second slower than planned",
            "cause": "The shorter hero video from Northwind's video agency has not arrived yet.",
            "impact": (
                "Visitors on mobile data wait longer for the first product; "
                "the February launch is not at risk yet, but will be if the video is later than 10 December."
            ),
            "next_step": "Priya is chasing the video agency; we compress and publish the day it arrives.",
            "assessment": "worse",
            "visibility": "shared",
        },
    },
    # --- Lale Mimarlık (Türkçe) ---------------------------------------------------------------
    "Portfolyo sitesi": {
        "goals": [
            {
                "title": "Siteden gelen proje başvurularını artırmak",
                "why": "Yeni işlerin çoğu tavsiyeyle geliyor; sitenin de iş getirmesini istiyoruz.",
                "metric_name": "Aylık iletişim formu başvurusu",
                "baseline": D(6),
                "target": D(15),
                "unit": "leads",
                "target_in": 70,
                "proposed": 19,
                "agreed": 17,
                "assumptions": [
                    ("Yeni site yayına girdiğinde eski alan adı yeni siteye yönlendirilir.", True),
                    ("Lale Mimarlık ayda en az bir yeni projeyi sitede paylaşır.", None),
                ],
                "check_ins": [(14, 0, ""), (7, -2, "Instagram'dan gelen ziyaretçiler formu kullanmaya başladı."), (2, -1, "")],
                "comments": [
                    ("client", "Geçen hafta formdan gelen iki başvuru gerçekten ciddi işlerdi, teşekkürler."),
                    ("agency", "Ne güzel Deniz Hanım! Formdaki 'bütçe aralığı' sorusu ön elemeye yardımcı oluyor gibi."),
                ],
            },
            {
                "title": "Portfolyoda yayında olan proje sayısı",
                "why": "Yarışma jürileri ve yatırımcılar siteye bakıyor; en az 24 proje görmeliler.",
                "metric_name": "Yayındaki proje",
                "baseline": D(0),
                "target": D(24),
                "unit": "count",
                "target_in": 35,
                "proposed": 18,
                "agreed": 16,
                "assumptions": [("Proje fotoğraflarının kullanım izinleri fotoğrafçılardan alınır.", None)],
                "check_ins": [(9, 10, "Fotoğraf izinleri bekleniyor."), (2, 11, "Yalnızca 4 proje yayında; 11 projenin fotoğraf izni eksik.")],
                "comments": [
                    (
                        "agency",
                        "Bu hedefte ciddi geriyiz: fotoğraf izinleri gelmeden projeleri yayına alamıyoruz. İzin yazısı şablonunu materyal talebine ekledik.",
                    ),
                ],
            },
            {
                "title": "Site iki dilde yayında",
                "why": "Yurt dışı yarışmalara katılıyoruz; jüri İngilizce okuyacak.",
                "done_when": "Site Türkçe ve İngilizce yayında ve tüm proje sayfalarının İngilizce metinleri Deniz Aksoy tarafından onaylandı.",
                "target_in": 40,
                "proposed": 1,
                "assumptions": [("İngilizce metinlerin çevirisini Studio Meridyen yaptırır, onayı Lale Mimarlık verir.", None)],
            },
        ],
        "assets": {
            "overdue": (
                "Proje fotoğrafları ve kullanım izinleri",
                "Her proje için en az 6 fotoğraf ve fotoğrafçının yazılı kullanım izni.",
                ["images", "documents"],
                15,
                4,
            ),
            "open": ("Ofis adresi ve harita konumu", "İletişim sayfası için açık adres ve Google Haritalar bağlantısı.", ["documents"], 2, -5),
            "accepted": ("Logo dosyaları", "Vektör ya da en az 1000 px genişliğinde PNG.", ["images"], 20, 15, "lale-logo.png"),
            "returned": (
                "Ekip fotoğrafı",
                "Hakkımızda sayfası için tüm ekibin olduğu yatay bir fotoğraf.",
                ["images"],
                12,
                6,
                "ekip.png",
                "Fotoğraf dikey ve iki kişi kadrajın dışında kalıyor. Yatay çekilmiş bir kare var mı?",
            ),
        },
        "deliverables": {
            "approved": (
                "Site haritası ve sayfa yapısı",
                "Ana sayfa, projeler, proje detayı, ofis, iletişim.",
                18,
                15,
                14,
                "site-haritasi.png",
                "Yapı şeması https://www.figma.com/file/lale-sitemap",
                "Yapı net, onaylıyorum.",
            ),
            "changes": (
                "Proje detay sayfası tasarımı",
                "Büyük görseller, proje künyesi ve çizimler için galeri.",
                14,
                10,
                8,
                "Tasarım https://www.figma.com/file/lale-proje-detay",
                "Künye bilgileri görselin altında kaybolmuş; jüri önce künyeyi görmeli. Bir de çizimler fotoğraflardan ayrı bir sekmede olsun.",
                "off_brief",
                3,
                "Künye görselin yanına alındı; çizimler ayrı sekmede.",
                "Tasarım v2 https://www.figma.com/file/lale-proje-detay?v=2",
            ),
            "review": (
                "Ana sayfa tasarımı",
                "Öne çıkan projeler ve ofisin yaklaşımını anlatan kısa metin.",
                5,
                1,
                "Ana sayfanın ilk hâli: üstte öne çıkan üç proje, altta yaklaşım metni. Metinler şimdilik taslak.",
                "Tasarım https://www.figma.com/file/lale-anasayfa",
            ),
        },
        "updates": [
            {
                "days": 12,
                "title": "Site yapısı onaylandı",
                "body": "Site haritasını onayladınız; tasarım aşamasına geçtik.",
                "done": "- Site haritası onaylandı\n- Logo dosyaları alındı",
                "next_steps": "- Proje detay sayfası tasarımı\n- Ana sayfa tasarımı",
                "blockers": "",
                "needs": "Proje fotoğrafları ve kullanım izinleri.",
            },
            {
                "days": 5,
                "title": "Proje detay sayfası revizyonda",
                "body": "Künye ve çizimlerle ilgili notlarınız doğrultusunda proje detay sayfasını güncelledik.",
                "done": "- Proje detay sayfası v2 hazırlandı\n- Dört proje içerikleriyle yüklendi",
                "next_steps": "- Ana sayfa tasarımını incelemenize sunmak",
                "blockers": "11 projenin fotoğraf izinleri eksik; bu projeleri yayına alamıyoruz.",
                "needs": "Fotoğrafçılardan kullanım izinleri.",
                "ack": ("approver", "accurate", ""),
                "comments": [
                    ("approver", "İzinler için fotoğrafçılara bu hafta yazıyorum. Şablon metin var mı?"),
                    ("agency", "Var Deniz Hanım, materyal talebine ekledik. İmzalı hâlini PDF olarak yüklemeniz yeterli."),
                ],
            },
        ],
        "draft": {
            "title": "İngilizce metinler için çeviri planı",
            "body": "Taslak: çevirmen önerileri ve takvim. Deniz Hanım'la toplantıda konuşulacak.",
            "next_steps": "- Çevirmen tekliflerini toplamak",
        },
        "weekly_note": "Bu hafta en önemli konu fotoğraf izinleri: izinler geldikçe projeleri aynı gün yayına alıyoruz.",
        "expectation": {
            "expected": "Kasım sonunda portfolyoda en az 12 projenin yayında olması.",
            "reality": "Yalnızca 4 proje yayında; 11 projenin fotoğraf kullanım izni henüz gelmedi.",
            "variance": "8 proje geride",
            "cause": "Fotoğrafçılardan yazılı kullanım izinleri istenmesi planda yoktu; telif hassasiyeti nedeniyle sonradan eklendi.",
            "impact": "Aralık'taki yarışma başvurusunda jüri sitede az sayıda proje görebilir.",
            "next_step": "İzin şablonu paylaşıldı; gelen her izinle proje aynı gün yayına alınıyor. Gerekirse yarışma için ayrı bir seçki sayfası hazırlarız.",
            "assessment": "worse",
            "visibility": "shared",
        },
    },
}
