"""The form's words in English and Welsh, besides its questions' (``ivr.reports.questions``).

The 999 and 101 messages are the web's own words, kept here beside the rest of the page:
a phone prompt is written to be heard, and rewording it must not change the page. The
categories come from the published call flow, so the ops team edits one list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ivr.flows.schema import Flow, MenuStep, prompt_text
from ivr.reports.questions import BY_NAME

LANGUAGES = {"en": "en-GB", "cy": "cy-GB"}

UI: dict[str, dict[str, str]] = {
    "en": {
        "title": "Report corruption or abuse by someone in the police",
        "service": "Anti-Corruption and Abuse Reporting Service",
        "skip": "Skip to the form",
        "other_language": "Cymraeg",
        "other_language_label": "Darllenwch y dudalen hon yn Gymraeg",
        "intro": "Use this form to tell us about a police officer, a member of police staff or a police volunteer, from any UK police force.",
        "anonymous_promise": "You do not have to tell us who you are. We do not keep your internet address, your browser or the time you send this. We only keep the day.",
        "danger_heading": "In danger now?",
        "safety": "If you, or anyone else, is in immediate danger, please hang up now and call 999.",
        "complaints_heading": "Want to complain about the police?",
        "complaints": "This line is only for reporting corruption and serious abuse by people who work in policing. To make a complaint about the police, please contact the police force directly, or call 101. In an emergency, always call 999.",
        "errors_heading": "There is a problem",
        "about_legend": "What is your report about?",
        "anonymity_legend": "Do you want to stay anonymous?",
        "anonymous": "Yes, stay anonymous. Nobody will know who I am.",
        "contact": "No, I want to leave contact details for the police team that looks into it.",
        "contact_label": "How can they contact you?",
        "contact_hint": "For example a phone number or an email address, and a safe time. This is kept apart from your report. Only the people who handle it see it.",
        "files_label": "Add files (optional)",
        "files_hint": "Photos (including iPhone HEIC), screenshots, scans, PDF, text or sound files. Up to {count} files, each up to {size} MB. We remove hidden details, like where a photo was taken, before anyone looks at them.",
        "question_legend": "A quick check that you are a person",
        "question_hint": "Your browser is not running JavaScript, which would do this check for you. If you cannot read the picture, turn JavaScript on, or call us instead.",
        "picture_alt": "A picture of 5 letters and numbers, to check that you are a person",
        "question_label": "Type the 5 letters and numbers in the picture",
        "send": "Send report",
        "sent_title": "Your report has been sent",
        "sent_body": "Thank you. Your report is safe and encrypted. Our team will read it and pass it to the right police force.",
        "sent_reference": "Your follow-up reference is {reference}. Write it down and keep it safe. You can use it by phone to hear if we have a question for you.",
        "sent_again": "Send another report",
        "err_category": "Choose what your report is about",
        "err_too_long": "Make this shorter: it can be up to {limit} characters",
        "err_contact": "Write how they can contact you, or choose to stay anonymous",
        "err_contact_anonymous": "You chose to stay anonymous, but you wrote contact details. Did you mean to leave them? Choose \u201cNo, I want to leave contact details\u201d to send them, or delete them from the box to stay anonymous. Nothing has been sent yet",
        "err_count": "Choose {count} files or fewer",
        "err_size": "Each file must be {size} MB or smaller. File {number} is too big",
        "err_type": "File {number} is not a type we accept. Choose a photo (JPG, PNG, GIF, WebP, HEIC or TIFF), a PDF, a text file or a sound file (WAV, MP3, M4A or OGG)",
        "err_pixels": "File {number} is a picture too large to check for details that could identify you. Send a copy of at most 50 megapixels (every phone photo is smaller)",
        "err_document": "File {number} is a word-processor document (Word, OpenDocument or RTF), which can hide your name and its editing history where we cannot remove them. Save it as a PDF, or take screenshots of it, and send that instead",
        "err_files_again": "Your files were not kept. Please choose them again",
        "err_expired": "This form had expired, so it was not sent. Your answers are still here. Please check them and send the form again",
        "err_question": "Type the letters and numbers in the picture. There is a new picture now",
        "err_more_work": "Many reports are being sent just now, so your browser needed to do a longer check. Your answers are still here (choose any files again), then send the form again",
        "err_unread": "This form was sent already, or it is not one of ours, so it was not read. Nothing you typed reached us. Please write your report in this new form",
        "err_busy": "Too many reports are being sent just now without JavaScript. Your answers are still here. Please wait a few minutes and send the form again, turn JavaScript on, or call us",
        "err_store": "Sorry, your report could not be saved just now. Please try again in a few minutes. Your answers are still here",
        "optional": "(optional)",
        "pin_legend": "Get a reference to follow up by phone",
        "pin_hint": "If you choose a PIN of 4 to 6 numbers, we give you a reference. Later you can call us, key in the reference and the PIN, and hear if we have a question for you. Do not use a PIN you use anywhere else.",
        "pin_label": "Choose a PIN",
        "pin_again_label": "Type the PIN again",
        "err_pin": "Your PIN must be 4 to 6 numbers",
        "err_pin_again": "The two PINs are not the same. Type them again",
    },
    "cy": {
        "title": "Rhoi gwybod am lygredd neu gamdriniaeth gan rywun yn yr heddlu",
        "service": "Gwasanaeth Adrodd am Lygredd a Chamdriniaeth",
        "skip": "Neidio i'r ffurflen",
        "other_language": "English",
        "other_language_label": "Read this page in English",
        "intro": "Defnyddiwch y ffurflen hon i ddweud wrthym am swyddog heddlu, aelod o staff yr heddlu neu wirfoddolwr yr heddlu, o unrhyw heddlu yn y Deyrnas Unedig.",
        "anonymous_promise": "Does dim rhaid i chi ddweud wrthym pwy ydych chi. Nid ydym yn cadw eich cyfeiriad rhyngrwyd, eich porwr nac amser anfon hwn. Dim ond y diwrnod rydym yn ei gadw.",
        "danger_heading": "Mewn perygl nawr?",
        "safety": "Os ydych chi, neu unrhyw un arall, mewn perygl uniongyrchol, rhowch y ffôn i lawr nawr a ffoniwch 999.",
        "complaints_heading": "Eisiau cwyno am yr heddlu?",
        "complaints": "Mae'r llinell hon ar gyfer adrodd am lygredd a chamdriniaeth ddifrifol gan bobl sy'n gweithio ym maes plismona yn unig. I wneud cwyn am yr heddlu, cysylltwch â'r heddlu yn uniongyrchol, neu ffoniwch 101. Mewn argyfwng, ffoniwch 999 bob amser.",
        "errors_heading": "Mae problem",
        "about_legend": "Am beth mae eich adroddiad?",
        "anonymity_legend": "Ydych chi eisiau aros yn ddienw?",
        "anonymous": "Ydw, aros yn ddienw. Fydd neb yn gwybod pwy ydw i.",
        "contact": "Nac ydw, rydw i eisiau gadael manylion cyswllt i dîm yr heddlu sy'n ymchwilio.",
        "contact_label": "Sut gallan nhw gysylltu â chi?",
        "contact_hint": "Er enghraifft rhif ffôn neu gyfeiriad e-bost, ac amser diogel. Caiff hyn ei gadw ar wahân i'ch adroddiad. Dim ond y bobl sy'n ei drin sy'n ei weld.",
        "files_label": "Ychwanegu ffeiliau (dewisol)",
        "files_hint": "Lluniau (gan gynnwys HEIC iPhone), sgrinluniau, sganiau, PDF, testun neu ffeiliau sain. Hyd at {count} ffeil, pob un hyd at {size} MB. Rydym yn dileu manylion cudd, fel ble tynnwyd llun, cyn i neb edrych arnyn nhw.",
        "question_legend": "Gwiriad cyflym eich bod yn berson",
        "question_hint": "Nid yw eich porwr yn rhedeg JavaScript, a fyddai'n gwneud y gwiriad hwn i chi. Os na allwch ddarllen y llun, trowch JavaScript ymlaen, neu ffoniwch ni yn lle hynny.",
        "picture_alt": "Llun o 5 llythyren a rhif, i wirio eich bod yn berson",
        "question_label": "Teipiwch y 5 llythyren a rhif sydd yn y llun",
        "send": "Anfon yr adroddiad",
        "sent_title": "Mae eich adroddiad wedi'i anfon",
        "sent_body": "Diolch. Mae eich adroddiad yn ddiogel ac wedi'i amgryptio. Bydd ein tîm yn ei ddarllen ac yn ei anfon at yr heddlu cywir.",
        "sent_reference": "Eich cyfeirnod dilynol yw {reference}. Ysgrifennwch ef i lawr a'i gadw'n ddiogel. Gallwch ei ddefnyddio dros y ffôn i glywed a oes gennym gwestiwn i chi.",
        "sent_again": "Anfon adroddiad arall",
        "err_category": "Dewiswch am beth mae eich adroddiad",
        "err_too_long": "Gwnewch hyn yn fyrrach: gall fod hyd at {limit} nod",
        "err_contact": "Ysgrifennwch sut gallan nhw gysylltu â chi, neu dewiswch aros yn ddienw",
        "err_contact_anonymous": "Rydych wedi dewis aros yn ddienw, ond rydych wedi ysgrifennu manylion cyswllt. Oeddech chi'n bwriadu eu gadael? Dewiswch \u201cNac ydw, rydw i eisiau gadael manylion cyswllt\u201d i'w hanfon, neu dilëwch nhw o'r blwch i aros yn ddienw. Nid oes dim wedi'i anfon eto",
        "err_count": "Dewiswch {count} ffeil neu lai",
        "err_size": "Rhaid i bob ffeil fod yn {size} MB neu lai. Mae ffeil {number} yn rhy fawr",
        "err_type": "Nid ydym yn derbyn y math o ffeil {number}. Dewiswch lun (JPG, PNG, GIF, WebP, HEIC neu TIFF), PDF, ffeil testun neu ffeil sain (WAV, MP3, M4A neu OGG)",
        "err_pixels": "Mae ffeil {number} yn llun rhy fawr i ni ei wirio am fanylion a allai ddangos pwy ydych chi. Anfonwch gopi o hyd at 50 megapicsel (mae pob llun ffôn yn llai)",
        "err_document": "Mae ffeil {number} yn ddogfen prosesydd geiriau (Word, OpenDocument neu RTF), a all guddio eich enw a hanes ei golygu lle na allwn eu dileu. Cadwch hi fel PDF, neu tynnwch sgrinluniau ohoni, ac anfonwch hynny yn lle",
        "err_files_again": "Ni chafodd eich ffeiliau eu cadw. Dewiswch nhw eto",
        "err_expired": "Roedd y ffurflen hon wedi dod i ben, felly ni chafodd ei hanfon. Mae eich atebion yma o hyd. Gwiriwch nhw ac anfonwch y ffurflen eto",
        "err_question": "Teipiwch y llythrennau a'r rhifau sydd yn y llun. Mae llun newydd nawr",
        "err_more_work": "Mae llawer o adroddiadau'n cael eu hanfon ar hyn o bryd, felly roedd angen i'ch porwr wneud gwiriad hirach. Mae eich atebion yma o hyd (dewiswch unrhyw ffeiliau eto), yna anfonwch y ffurflen eto",
        "err_unread": "Mae'r ffurflen hon wedi'i hanfon yn barod, neu nid yw'n un o'n rhai ni, felly ni chafodd ei darllen. Ni chyrhaeddodd dim a deipiwyd gennych. Ysgrifennwch eich adroddiad yn y ffurflen newydd hon",
        "err_busy": "Mae gormod o adroddiadau'n cael eu hanfon heb JavaScript ar hyn o bryd. Mae eich atebion yma o hyd. Arhoswch ychydig funudau ac anfonwch y ffurflen eto, trowch JavaScript ymlaen, neu ffoniwch ni",
        "err_store": "Mae'n ddrwg gennym, ni ellid cadw eich adroddiad ar hyn o bryd. Rhowch gynnig arall arni mewn ychydig funudau. Mae eich atebion yma o hyd",
        "optional": "(dewisol)",
        "pin_legend": "Cael cyfeirnod i ddilyn dros y ffôn",
        "pin_hint": "Os dewiswch PIN o 4 i 6 rhif, rydym yn rhoi cyfeirnod i chi. Wedyn gallwch ein ffonio, rhoi'r cyfeirnod a'r PIN, a chlywed a oes gennym gwestiwn i chi. Peidiwch â defnyddio PIN rydych yn ei ddefnyddio yn rhywle arall.",
        "pin_label": "Dewiswch PIN",
        "pin_again_label": "Teipiwch y PIN eto",
        "err_pin": "Rhaid i'ch PIN fod yn 4 i 6 rhif",
        "err_pin_again": "Nid yw'r ddau PIN yr un fath. Teipiwch nhw eto",
    },
}


# The error key of a question left unanswered: its words are the question's own.
REQUIRED = "required"


def message(lang: str, name: str, key: str) -> str:
    """Return the words of error ``key`` beside field ``name``, in ``lang`` ("en" or "cy")."""
    if key == REQUIRED:
        return BY_NAME[name].required[lang]
    return UI[lang][key]


@dataclass(frozen=True)
class FlowWording:
    """What the published flow says that the form says too."""

    categories: list[tuple[str, str]]  # (key, label), "something else" last


def flow_wording(flow: Flow, language: str) -> FlowWording:
    """Read the categories from ``flow`` in ``language``."""
    labels = dict(flow.categories)
    if language != flow.default_language:
        labels.update(_labels_from_menu(flow, language))
    if "other" not in labels:
        labels["other"] = "Something else" if language.startswith("en") else "Rhywbeth arall"
    ordered = [(key, label) for key, label in labels.items() if key != "other"]
    return FlowWording([*ordered, ("other", labels["other"])])


def _labels_from_menu(flow: Flow, language: str) -> dict[str, str]:
    """Labels in another language, from the menu that sets the category ("..., press 1.")."""
    found: dict[str, str] = {}
    for step in flow.steps.values():
        if not isinstance(step, MenuStep) or language not in step.prompt:
            continue
        sentences = re.split(r"(?<=[.?!])\s+", prompt_text(step.prompt[language]))
        for key, option in step.options.items():
            category = option.set.get("category")
            if category is None:
                continue
            for sentence in sentences:
                if re.search(rf",\s*\w+\s+{re.escape(key)}\.?$", sentence):
                    found[category] = sentence.rsplit(",", 1)[0].strip()
    return found
