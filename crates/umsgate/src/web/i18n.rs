//! The console's words in the seven report languages.
//!
//! Contract: every string has a text in every language — the table's type
//! (`[&str; 7]`, in the order of the reports' `LANGUAGES`) makes a missing one a compile error,
//! and a test checks that none is empty and that every `t("…")` in the templates names one.
//! [`negotiate`] picks the language: the `lang` cookie (the switch on every page) when it
//! names one of the seven, else the best of `Accept-Language` by its q-values, else English.
//!
//! Implementation summary: a sorted static table, looked up by binary search; the reports'
//! Fluent catalogs are for sentences with plurals and arguments, which the console's labels
//! do not have.

use umsgate_domain::Language;

use crate::reports::strings::{LANGUAGES, lang_index};

/// Name of the language cookie.
pub const COOKIE: &str = "umsgate_lang";

/// Each language's own name, for the switch.
pub fn native_name(lang: Language) -> &'static str {
    match lang {
        Language::De => "Deutsch",
        Language::En => "English",
        Language::Fr => "Français",
        Language::It => "Italiano",
        Language::Es => "Español",
        Language::Pt => "Português",
        Language::Nl => "Nederlands",
    }
}

/// The seven languages with their codes.
pub fn all() -> impl Iterator<Item = (Language, &'static str)> {
    LANGUAGES.into_iter().map(|l| (l, code(l)))
}

pub fn code(lang: Language) -> &'static str {
    match lang {
        Language::De => "de",
        Language::En => "en",
        Language::Fr => "fr",
        Language::It => "it",
        Language::Es => "es",
        Language::Pt => "pt",
        Language::Nl => "nl",
    }
}

pub fn from_code(s: &str) -> Option<Language> {
    let primary = s.split(['-', '_']).next()?.trim();
    LANGUAGES
        .into_iter()
        .find(|l| code(*l).eq_ignore_ascii_case(primary))
}

/// The language of a request (see the module documentation).
pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>) -> Language {
    if let Some(l) = cookie.and_then(from_code) {
        return l;
    }
    let mut best: Option<(f32, Language)> = None;
    for part in accept_language.unwrap_or("").split(',').take(32) {
        let mut it = part.split(';');
        let tag = it.next().unwrap_or("").trim();
        let q = it
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if let Some(l) = from_code(tag)
            && q > 0.0
            && best.is_none_or(|(bq, _)| q > bq)
        {
            best = Some((q, l));
        }
    }
    best.map_or(Language::En, |(_, l)| l)
}

/// The text of `key` in `lang`; an unknown key shows itself (and fails the tests).
pub fn text(lang: Language, key: &str) -> &'static str {
    match STRINGS.binary_search_by(|(k, _)| (*k).cmp(key)) {
        Ok(i) => STRINGS[i].1[lang_index(lang)],
        Err(_) => "??",
    }
}

/// Whether `key` is in the table.
pub fn known(key: &str) -> bool {
    STRINGS.binary_search_by(|(k, _)| (*k).cmp(key)).is_ok()
}

/// (key, [de, en, fr, it, es, pt, nl]), sorted by key.
pub(crate) static STRINGS: &[(&str, [&str; 7])] = &[
    (
        "action.cancel",
        [
            "Abbrechen",
            "Cancel",
            "Annuler",
            "Annulla",
            "Cancelar",
            "Cancelar",
            "Annuleren",
        ],
    ),
    (
        "action.clear",
        [
            "Leeren",
            "Clear",
            "Vider",
            "Svuota",
            "Vaciar",
            "Limpar",
            "Leegmaken",
        ],
    ),
    (
        "action.delete",
        [
            "Löschen",
            "Delete",
            "Supprimer",
            "Elimina",
            "Eliminar",
            "Eliminar",
            "Verwijderen",
        ],
    ),
    (
        "action.download",
        [
            "Herunterladen",
            "Download",
            "Télécharger",
            "Scarica",
            "Descargar",
            "Transferir",
            "Downloaden",
        ],
    ),
    (
        "action.follow",
        [
            "Mitverfolgen",
            "Follow",
            "Suivre",
            "Segui",
            "Seguir",
            "Acompanhar",
            "Volgen",
        ],
    ),
    (
        "action.requeue",
        [
            "Erneut senden",
            "Requeue",
            "Renvoyer",
            "Rimetti in coda",
            "Reencolar",
            "Reenviar",
            "Opnieuw verzenden",
        ],
    ),
    (
        "action.search",
        [
            "Suchen",
            "Search",
            "Rechercher",
            "Cerca",
            "Buscar",
            "Procurar",
            "Zoeken",
        ],
    ),
    (
        "action.show",
        [
            "Anzeigen", "Show", "Afficher", "Mostra", "Mostrar", "Mostrar", "Tonen",
        ],
    ),
    (
        "confirm.clear",
        [
            "Die aktuelle Protokolldatei leeren?",
            "Clear the current log file?",
            "Vider le fichier journal actuel ?",
            "Svuotare il file di log attuale?",
            "¿Vaciar el archivo de registro actual?",
            "Limpar o ficheiro de registo atual?",
            "Het huidige logbestand leegmaken?",
        ],
    ),
    (
        "confirm.delete",
        [
            "Diese Nachricht endgültig löschen?",
            "Delete this message for good?",
            "Supprimer définitivement ce message ?",
            "Eliminare definitivamente questo messaggio?",
            "¿Eliminar este mensaje definitivamente?",
            "Eliminar esta mensagem definitivamente?",
            "Dit bericht definitief verwijderen?",
        ],
    ),
    (
        "dash.deliveries",
        [
            "Zustellungen (letzte Stunde)",
            "Deliveries (last hour)",
            "Remises (dernière heure)",
            "Consegne (ultima ora)",
            "Entregas (última hora)",
            "Entregas (última hora)",
            "Afleveringen (laatste uur)",
        ],
    ),
    (
        "dash.jobs",
        [
            "Aufträge (letzte Stunde)",
            "Jobs (last hour)",
            "Travaux (dernière heure)",
            "Lavori (ultima ora)",
            "Trabajos (última hora)",
            "Trabalhos (última hora)",
            "Opdrachten (laatste uur)",
        ],
    ),
    (
        "dash.last_errors",
        [
            "Letzte Fehler",
            "Last errors",
            "Dernières erreurs",
            "Ultimi errori",
            "Últimos errores",
            "Últimos erros",
            "Laatste fouten",
        ],
    ),
    (
        "dash.listener",
        [
            "SMTP-Listener",
            "SMTP listener",
            "Écoute SMTP",
            "Listener SMTP",
            "Escucha SMTP",
            "Escuta SMTP",
            "SMTP-listener",
        ],
    ),
    (
        "dash.state",
        [
            "Zustand", "State", "État", "Stato", "Estado", "Estado", "Status",
        ],
    ),
    (
        "dash.title",
        [
            "Übersicht",
            "Dashboard",
            "Tableau de bord",
            "Panoramica",
            "Panel",
            "Painel",
            "Overzicht",
        ],
    ),
    (
        "error.bad_request",
        [
            "Die Anfrage wurde abgelehnt",
            "The request was refused",
            "La requête a été refusée",
            "La richiesta è stata rifiutata",
            "La solicitud fue rechazada",
            "O pedido foi recusado",
            "Het verzoek is geweigerd",
        ],
    ),
    (
        "error.forbidden",
        [
            "Diese Seite ist Administratoren vorbehalten",
            "This page is for administrators only",
            "Cette page est réservée aux administrateurs",
            "Questa pagina è riservata agli amministratori",
            "Esta página es solo para administradores",
            "Esta página é só para administradores",
            "Deze pagina is alleen voor beheerders",
        ],
    ),
    (
        "error.internal",
        [
            "Interner Fehler; Einzelheiten im Dienstprotokoll",
            "Internal error; details are in the service log",
            "Erreur interne ; détails dans le journal du service",
            "Errore interno; dettagli nel log del servizio",
            "Error interno; detalles en el registro del servicio",
            "Erro interno; detalhes no registo do serviço",
            "Interne fout; details in het servicelog",
        ],
    ),
    (
        "error.not_found",
        [
            "Nicht gefunden",
            "Not found",
            "Introuvable",
            "Non trovato",
            "No encontrado",
            "Não encontrado",
            "Niet gevonden",
        ],
    ),
    (
        "info.change_hint",
        [
            "Die Konfiguration wird in der Datei geändert; danach prüfen und neu starten:",
            "The configuration is changed in its file; then check and restart:",
            "La configuration se modifie dans son fichier ; ensuite vérifier et redémarrer :",
            "La configurazione si modifica nel suo file; poi verificare e riavviare:",
            "La configuración se cambia en su archivo; después comprobar y reiniciar:",
            "A configuração altera-se no seu ficheiro; depois verificar e reiniciar:",
            "De configuratie wordt in het bestand gewijzigd; daarna controleren en herstarten:",
        ],
    ),
    (
        "info.config",
        [
            "Konfiguration (Geheimnisse ausgeblendet)",
            "Configuration (secrets hidden)",
            "Configuration (secrets masqués)",
            "Configurazione (segreti nascosti)",
            "Configuración (secretos ocultos)",
            "Configuração (segredos ocultos)",
            "Configuratie (geheimen verborgen)",
        ],
    ),
    (
        "info.diagnostics",
        [
            "Prüfung",
            "Diagnostics",
            "Diagnostic",
            "Diagnostica",
            "Diagnóstico",
            "Diagnóstico",
            "Diagnose",
        ],
    ),
    (
        "info.paths",
        [
            "Pfade", "Paths", "Chemins", "Percorsi", "Rutas", "Caminhos", "Paden",
        ],
    ),
    (
        "info.title",
        [
            "Information",
            "Information",
            "Informations",
            "Informazioni",
            "Información",
            "Informação",
            "Informatie",
        ],
    ),
    (
        "info.version",
        [
            "Version", "Version", "Version", "Versione", "Versión", "Versão", "Versie",
        ],
    ),
    // The message journal (console and portal).
    (
        "instances.checks_hint",
        [
            "(fragt Verzeichnis, Mailserver, Engine und Drucker; höchstens 45 s)",
            "(asks the directory, the mail server, the engine and the printers; at most 45 s)",
            "(interroge l'annuaire, le serveur de messagerie, le moteur et les imprimantes ; 45 s au plus)",
            "(interroga directory, server di posta, motore e stampanti; al massimo 45 s)",
            "(consulta el directorio, el servidor de correo, el motor y las impresoras; 45 s como máximo)",
            "(consulta o diretório, o servidor de correio, o motor e as impressoras; no máximo 45 s)",
            "(vraagt de directory, de mailserver, de engine en de printers; hoogstens 45 s)",
        ],
    ),
    (
        "instances.configured",
        [
            "Konfiguriert",
            "Configured",
            "Configuration",
            "Configurata",
            "Configurada",
            "Configurada",
            "Geconfigureerd",
        ],
    ),
    (
        "instances.details",
        [
            "Konfiguration und Prüfungen",
            "Configuration and checks",
            "Configuration et vérifications",
            "Configurazione e verifiche",
            "Configuración y comprobaciones",
            "Configuração e verificações",
            "Configuratie en controles",
        ],
    ),
    (
        "instances.disable",
        [
            "Deaktivieren",
            "Disable",
            "Désactiver",
            "Disattiva",
            "Desactivar",
            "Desativar",
            "Uitschakelen",
        ],
    ),
    (
        "instances.done_already",
        [
            "war bereits so konfiguriert; nichts geändert",
            "was configured so already; nothing changed",
            "était déjà ainsi configurée ; rien n'a changé",
            "era già configurata così; nulla è cambiato",
            "ya estaba configurada así; nada ha cambiado",
            "já estava configurada assim; nada mudou",
            "was al zo geconfigureerd; niets gewijzigd",
        ],
    ),
    (
        "instances.done_changed",
        [
            "Konfigurationsdatei geschrieben und neu geladen",
            "configuration file written and reloaded",
            "fichier de configuration écrit et rechargé",
            "file di configurazione scritto e ricaricato",
            "archivo de configuración escrito y recargado",
            "ficheiro de configuração escrito e recarregado",
            "configuratiebestand geschreven en opnieuw geladen",
        ],
    ),
    (
        "instances.done_no_reload",
        [
            "Konfigurationsdatei geschrieben; kein laufender Dienst hat sie neu geladen (gilt beim nächsten Start oder SIGHUP)",
            "configuration file written; no running service reloaded it (applies at the next start or SIGHUP)",
            "fichier de configuration écrit ; aucun service en marche ne l'a rechargé (s'applique au prochain démarrage ou SIGHUP)",
            "file di configurazione scritto; nessun servizio in esecuzione l'ha ricaricato (vale al prossimo avvio o SIGHUP)",
            "archivo de configuración escrito; ningún servicio en marcha lo recargó (se aplica en el próximo arranque o SIGHUP)",
            "ficheiro de configuração escrito; nenhum serviço em execução o recarregou (aplica-se no próximo arranque ou SIGHUP)",
            "configuratiebestand geschreven; geen draaiende dienst heeft het geladen (geldt bij de volgende start of SIGHUP)",
        ],
    ),
    (
        "instances.done_reload_failed",
        [
            "Konfigurationsdatei geschrieben, aber das Neuladen ist fehlgeschlagen: siehe Protokoll",
            "configuration file written, but the reload failed: see the log",
            "fichier de configuration écrit, mais le rechargement a échoué : voir le journal",
            "file di configurazione scritto, ma il ricaricamento non è riuscito: vedere il log",
            "archivo de configuración escrito, pero la recarga falló: vea el registro",
            "ficheiro de configuração escrito, mas o recarregamento falhou: veja o registo",
            "configuratiebestand geschreven, maar opnieuw laden is mislukt: zie het logbestand",
        ],
    ),
    (
        "instances.done_reload_timeout",
        [
            "Konfigurationsdatei geschrieben; das Neuladen dauert noch an",
            "configuration file written; the reload is still under way",
            "fichier de configuration écrit ; le rechargement est encore en cours",
            "file di configurazione scritto; il ricaricamento è ancora in corso",
            "archivo de configuración escrito; la recarga sigue en curso",
            "ficheiro de configuração escrito; o recarregamento ainda está em curso",
            "configuratiebestand geschreven; het opnieuw laden is nog bezig",
        ],
    ),
    (
        "instances.edit_hint",
        [
            "Andere Änderungen in der Konfigurationsdatei vornehmen, dann neu laden:",
            "Make other changes in the configuration file, then reload:",
            "Faites les autres modifications dans le fichier de configuration, puis rechargez :",
            "Apportare le altre modifiche nel file di configurazione, poi ricaricare:",
            "Haga los demás cambios en el archivo de configuración y después recargue:",
            "Faça as outras alterações no ficheiro de configuração e depois recarregue:",
            "Breng andere wijzigingen aan in het configuratiebestand en laad daarna opnieuw:",
        ],
    ),
    (
        "instances.enable",
        [
            "Aktivieren",
            "Enable",
            "Activer",
            "Attiva",
            "Activar",
            "Ativar",
            "Inschakelen",
        ],
    ),
    (
        "instances.enabled",
        [
            "aktiviert",
            "enabled",
            "activée",
            "attivata",
            "activada",
            "ativada",
            "ingeschakeld",
        ],
    ),
    (
        "instances.engine",
        [
            "Engine", "Engine", "Moteur", "Motore", "Motor", "Motor", "Engine",
        ],
    ),
    (
        "instances.failed",
        [
            "FEHLER", "FAILED", "ÉCHEC", "ERRORE", "ERROR", "FALHOU", "MISLUKT",
        ],
    ),
    (
        "instances.no_entry",
        [
            "Kein [[instance]]-Abschnitt mit dieser ID in der Datei (anders geschrieben?)",
            "No [[instance]] table with this id in the file (written another way?)",
            "Aucune table [[instance]] avec cet identifiant dans le fichier (écrite autrement ?)",
            "Nessuna tabella [[instance]] con questo ID nel file (scritta in altro modo?)",
            "No hay ninguna tabla [[instance]] con este ID en el archivo (¿escrita de otra forma?)",
            "Nenhuma tabela [[instance]] com este ID no ficheiro (escrita de outra forma?)",
            "Geen [[instance]]-tabel met deze id in het bestand (anders geschreven?)",
        ],
    ),
    (
        "instances.no_reload",
        [
            "Diese Konsole läuft ohne Dienst, der neu laden kann: Änderungen gelten beim nächsten Start.",
            "This console runs without a service that can reload: changes apply at the next start.",
            "Cette console tourne sans service capable de recharger : les modifications s'appliquent au prochain démarrage.",
            "Questa console funziona senza un servizio che possa ricaricare: le modifiche valgono al prossimo avvio.",
            "Esta consola funciona sin un servicio que pueda recargar: los cambios se aplican en el próximo arranque.",
            "Esta consola funciona sem um serviço que possa recarregar: as alterações aplicam-se no próximo arranque.",
            "Deze console draait zonder dienst die opnieuw kan laden: wijzigingen gelden bij de volgende start.",
        ],
    ),
    (
        "instances.not_written",
        [
            "Die Konfigurationsdatei wurde nicht geändert",
            "The configuration file was not changed",
            "Le fichier de configuration n'a pas été modifié",
            "Il file di configurazione non è stato modificato",
            "El archivo de configuración no se ha modificado",
            "O ficheiro de configuração não foi alterado",
            "Het configuratiebestand is niet gewijzigd",
        ],
    ),
    (
        "instances.run_checks",
        [
            "Prüfungen ausführen",
            "Run the checks",
            "Lancer les vérifications",
            "Esegui le verifiche",
            "Ejecutar las comprobaciones",
            "Executar as verificações",
            "Controles uitvoeren",
        ],
    ),
    (
        "instances.title",
        [
            "Instanzen",
            "Instances",
            "Instances",
            "Istanze",
            "Instancias",
            "Instâncias",
            "Instanties",
        ],
    ),
    (
        "journal.all",
        ["alle", "all", "tous", "tutti", "todos", "todos", "alle"],
    ),
    (
        "journal.attachments",
        [
            "Anhänge",
            "Attachments",
            "Pièces jointes",
            "Allegati",
            "Adjuntos",
            "Anexos",
            "Bijlagen",
        ],
    ),
    (
        "journal.bad_address",
        [
            "Keine gültige E-Mail-Adresse",
            "Not a valid mail address",
            "Adresse e-mail non valide",
            "Indirizzo e-mail non valido",
            "Dirección de correo no válida",
            "Endereço de e-mail inválido",
            "Geen geldig e-mailadres",
        ],
    ),
    (
        "journal.called",
        [
            "Angerufene Nummer",
            "Called number",
            "Numéro appelé",
            "Numero chiamato",
            "Número llamado",
            "Número chamado",
            "Gebeld nummer",
        ],
    ),
    (
        "journal.calling",
        [
            "Absendernummer",
            "Calling number",
            "Numéro appelant",
            "Numero chiamante",
            "Número llamante",
            "Número chamador",
            "Nummer beller",
        ],
    ),
    (
        "journal.deleted",
        [
            "Eintrag gelöscht",
            "Entry deleted",
            "Entrée supprimée",
            "Voce eliminata",
            "Entrada eliminada",
            "Entrada eliminada",
            "Item verwijderd",
        ],
    ),
    (
        "journal.kind",
        ["Art", "Kind", "Type", "Tipo", "Tipo", "Tipo", "Soort"],
    ),
    (
        "journal.message",
        [
            "Nachricht",
            "Message",
            "Message",
            "Messaggio",
            "Mensaje",
            "Mensagem",
            "Bericht",
        ],
    ),
    (
        "journal.mine",
        [
            "Meine Nachrichten",
            "My messages",
            "Mes messages",
            "I miei messaggi",
            "Mis mensajes",
            "As minhas mensagens",
            "Mijn berichten",
        ],
    ),
    (
        "journal.none",
        [
            "Keine Einträge",
            "No entries",
            "Aucune entrée",
            "Nessuna voce",
            "Sin entradas",
            "Sem entradas",
            "Geen items",
        ],
    ),
    (
        "journal.number",
        [
            "Nummer", "Number", "Numéro", "Numero", "Número", "Número", "Nummer",
        ],
    ),
    (
        "journal.recipient",
        [
            "Empfänger",
            "Recipient",
            "Destinataire",
            "Destinatario",
            "Destinatario",
            "Destinatário",
            "Ontvanger",
        ],
    ),
    (
        "journal.report",
        [
            "Sendebericht",
            "Delivery report",
            "Rapport d'envoi",
            "Rapporto di invio",
            "Informe de envío",
            "Relatório de envio",
            "Verzendrapport",
        ],
    ),
    (
        "journal.resend",
        [
            "Als E-Mail senden",
            "Send as mail",
            "Envoyer par e-mail",
            "Invia come e-mail",
            "Enviar como correo",
            "Enviar por e-mail",
            "Als e-mail versturen",
        ],
    ),
    (
        "journal.resend_to",
        [
            "An (leer: der Empfänger)",
            "To (empty: the recipient)",
            "À (vide : le destinataire)",
            "A (vuoto: il destinatario)",
            "Para (vacío: el destinatario)",
            "Para (vazio: o destinatário)",
            "Aan (leeg: de ontvanger)",
        ],
    ),
    (
        "journal.resent",
        [
            "Zur Zustellung übergeben (smtp-out)",
            "Handed to delivery (smtp-out)",
            "Remis à la distribution (smtp-out)",
            "Consegnato al recapito (smtp-out)",
            "Entregado al envío (smtp-out)",
            "Entregue à distribuição (smtp-out)",
            "Aan de bezorging gegeven (smtp-out)",
        ],
    ),
    (
        "journal.search_hint",
        [
            "Empfänger, Nummer, ID oder Betreff",
            "Recipient, number, ID or subject",
            "Destinataire, numéro, ID ou objet",
            "Destinatario, numero, ID o oggetto",
            "Destinatario, número, ID o asunto",
            "Destinatário, número, ID ou assunto",
            "Ontvanger, nummer, ID of onderwerp",
        ],
    ),
    (
        "journal.size",
        [
            "Größe",
            "Size",
            "Taille",
            "Dimensione",
            "Tamaño",
            "Tamanho",
            "Grootte",
        ],
    ),
    (
        "journal.subject",
        [
            "Betreff",
            "Subject",
            "Objet",
            "Oggetto",
            "Asunto",
            "Assunto",
            "Onderwerp",
        ],
    ),
    (
        "journal.text",
        ["Text", "Text", "Texte", "Testo", "Texto", "Texto", "Tekst"],
    ),
    (
        "journal.time",
        ["Zeit", "Time", "Heure", "Ora", "Hora", "Hora", "Tijd"],
    ),
    (
        "journal.title",
        [
            "Journal", "Journal", "Journal", "Giornale", "Diario", "Diário", "Journaal",
        ],
    ),
    (
        "journal.unavailable",
        [
            "Der Zustandsspeicher ist nicht erreichbar",
            "The state store cannot be read",
            "Le magasin d'état est illisible",
            "L'archivio di stato non è leggibile",
            "No se puede leer el almacén de estado",
            "Não é possível ler o armazenamento de estado",
            "De statusopslag kan niet worden gelezen",
        ],
    ),
    (
        "lang.label",
        [
            "Sprache", "Language", "Langue", "Lingua", "Idioma", "Idioma", "Taal",
        ],
    ),
    (
        "login.blocked",
        [
            "Zu viele Fehlversuche; bitte später erneut versuchen",
            "Too many failed attempts; try again later",
            "Trop d'échecs ; réessayez plus tard",
            "Troppi tentativi falliti; riprovare più tardi",
            "Demasiados intentos fallidos; inténtelo más tarde",
            "Demasiadas tentativas falhadas; tente mais tarde",
            "Te veel mislukte pogingen; probeer het later opnieuw",
        ],
    ),
    (
        "login.failed",
        [
            "Name oder Passwort falsch",
            "Wrong name or password",
            "Nom ou mot de passe incorrect",
            "Nome o password errati",
            "Nombre o contraseña incorrectos",
            "Nome ou palavra-passe incorretos",
            "Onjuiste naam of wachtwoord",
        ],
    ),
    (
        "login.name",
        [
            "Benutzername",
            "User name",
            "Nom d'utilisateur",
            "Nome utente",
            "Nombre de usuario",
            "Nome de utilizador",
            "Gebruikersnaam",
        ],
    ),
    (
        "login.password",
        [
            "Passwort",
            "Password",
            "Mot de passe",
            "Password",
            "Contraseña",
            "Palavra-passe",
            "Wachtwoord",
        ],
    ),
    (
        "login.submit",
        [
            "Anmelden",
            "Log in",
            "Se connecter",
            "Accedi",
            "Iniciar sesión",
            "Entrar",
            "Inloggen",
        ],
    ),
    (
        "login.title",
        [
            "Anmeldung",
            "Login",
            "Connexion",
            "Accesso",
            "Inicio de sesión",
            "Início de sessão",
            "Aanmelden",
        ],
    ),
    (
        "login.unavailable",
        [
            "Die Anmeldung ist gerade nicht möglich",
            "Login is not possible right now",
            "La connexion est impossible pour le moment",
            "L'accesso non è possibile al momento",
            "El inicio de sesión no es posible ahora",
            "O início de sessão não é possível agora",
            "Aanmelden is nu niet mogelijk",
        ],
    ),
    (
        "logs.empty",
        [
            "Keine Zeilen",
            "No lines",
            "Aucune ligne",
            "Nessuna riga",
            "Sin líneas",
            "Sem linhas",
            "Geen regels",
        ],
    ),
    (
        "logs.file",
        [
            "Datei", "File", "Fichier", "File", "Archivo", "Ficheiro", "Bestand",
        ],
    ),
    (
        "logs.filter",
        [
            "Filter", "Filter", "Filtre", "Filtro", "Filtro", "Filtro", "Filter",
        ],
    ),
    (
        "logs.title",
        [
            "Protokolle",
            "Logs",
            "Journaux",
            "Log",
            "Registros",
            "Registos",
            "Logs",
        ],
    ),
    (
        "nav.logout",
        [
            "Abmelden",
            "Log out",
            "Se déconnecter",
            "Esci",
            "Cerrar sesión",
            "Sair",
            "Afmelden",
        ],
    ),
    (
        "nav.portal",
        [
            "Meine Einstellungen",
            "My settings",
            "Mes paramètres",
            "Le mie impostazioni",
            "Mis ajustes",
            "As minhas definições",
            "Mijn instellingen",
        ],
    ),
    (
        "portal.cover",
        [
            "Deckblatt",
            "Cover page",
            "Page de garde",
            "Frontespizio",
            "Portada",
            "Folha de rosto",
            "Voorblad",
        ],
    ),
    (
        "portal.default",
        [
            "Vorgabe",
            "Default",
            "Par défaut",
            "Predefinito",
            "Predeterminado",
            "Predefinição",
            "Standaard",
        ],
    ),
    (
        "portal.error.control",
        [
            "Die Kopfzeile darf keine Zeilenumbrüche oder Steuerzeichen enthalten.",
            "The headline must not contain line breaks or control characters.",
            "L'en-tête ne doit pas contenir de saut de ligne ni de caractère de contrôle.",
            "L'intestazione non deve contenere a capo o caratteri di controllo.",
            "El encabezado no debe contener saltos de línea ni caracteres de control.",
            "O cabeçalho não pode conter quebras de linha nem caracteres de controlo.",
            "De kopregel mag geen regeleinden of stuurtekens bevatten.",
        ],
    ),
    (
        "portal.error.locked",
        [
            "Dieses Feld kann nicht geändert werden.",
            "This field cannot be changed.",
            "Ce champ ne peut pas être modifié.",
            "Questo campo non può essere modificato.",
            "Este campo no se puede cambiar.",
            "Este campo não pode ser alterado.",
            "Dit veld kan niet worden gewijzigd.",
        ],
    ),
    (
        "portal.error.not_offered",
        [
            "Dieser Wert steht nicht zur Auswahl.",
            "This value is not one of the choices.",
            "Cette valeur ne fait pas partie des choix.",
            "Questo valore non è tra le scelte.",
            "Este valor no está entre las opciones.",
            "Este valor não está entre as opções.",
            "Deze waarde staat niet tussen de keuzes.",
        ],
    ),
    (
        "portal.error.too_long",
        [
            "Die Kopfzeile ist zu lang (höchstens 60 Zeichen).",
            "The headline is too long (at most 60 characters).",
            "L'en-tête est trop long (60 caractères au plus).",
            "L'intestazione è troppo lunga (al massimo 60 caratteri).",
            "El encabezado es demasiado largo (60 caracteres como máximo).",
            "O cabeçalho é demasiado longo (no máximo 60 caracteres).",
            "De kopregel is te lang (hoogstens 60 tekens).",
        ],
    ),
    (
        "portal.headline",
        [
            "Faxkopfzeile",
            "Fax headline",
            "En-tête de fax",
            "Intestazione fax",
            "Encabezado de fax",
            "Cabeçalho do fax",
            "Faxkopregel",
        ],
    ),
    (
        "portal.inbound",
        [
            "Empfangene Faxe als",
            "Received faxes as",
            "Fax reçus en",
            "Fax ricevuti come",
            "Faxes recibidos como",
            "Faxes recebidos como",
            "Ontvangen faxen als",
        ],
    ),
    (
        "portal.inbound.pdf",
        ["PDF", "PDF", "PDF", "PDF", "PDF", "PDF", "PDF"],
    ),
    (
        "portal.inbound.pdf_tif",
        [
            "PDF und TIFF",
            "PDF and TIFF",
            "PDF et TIFF",
            "PDF e TIFF",
            "PDF y TIFF",
            "PDF e TIFF",
            "PDF en TIFF",
        ],
    ),
    (
        "portal.inbound.tif",
        ["TIFF", "TIFF", "TIFF", "TIFF", "TIFF", "TIFF", "TIFF"],
    ),
    (
        "portal.language",
        [
            "Sprache der Berichte",
            "Report language",
            "Langue des rapports",
            "Lingua dei rapporti",
            "Idioma de los informes",
            "Idioma dos relatórios",
            "Taal van de rapporten",
        ],
    ),
    (
        "portal.malformed",
        [
            "Ihre Einstellungen im Verzeichnis sind fehlerhaft; es gelten die Vorgaben. Bitte wenden Sie sich an den Administrator.",
            "Your settings in the directory are malformed; the defaults apply. Please contact the administrator.",
            "Vos paramètres dans l'annuaire sont invalides ; les valeurs par défaut s'appliquent. Contactez l'administrateur.",
            "Le impostazioni nella directory non sono valide; valgono i valori predefiniti. Contattare l'amministratore.",
            "Sus ajustes en el directorio no son válidos; se aplican los valores predeterminados. Contacte con el administrador.",
            "As suas definições no diretório são inválidas; aplicam-se as predefinições. Contacte o administrador.",
            "Uw instellingen in de directory zijn ongeldig; de standaardwaarden gelden. Neem contact op met de beheerder.",
        ],
    ),
    (
        "portal.max_pages",
        [
            "Seiten je Fax",
            "Pages per fax",
            "Pages par fax",
            "Pagine per fax",
            "Páginas por fax",
            "Páginas por fax",
            "Pagina's per fax",
        ],
    ),
    (
        "portal.none",
        [
            "Für diese Anmeldung gibt es keine Benutzereinstellungen.",
            "There are no user settings for this login.",
            "Aucun paramètre utilisateur pour cette connexion.",
            "Nessuna impostazione utente per questo accesso.",
            "No hay ajustes de usuario para este inicio de sesión.",
            "Não existem definições de utilizador para este início de sessão.",
            "Er zijn geen gebruikersinstellingen voor deze aanmelding.",
        ],
    ),
    (
        "portal.own",
        [
            "eigene Einstellung",
            "your setting",
            "votre réglage",
            "tua impostazione",
            "su ajuste",
            "a sua definição",
            "uw instelling",
        ],
    ),
    (
        "portal.per_day",
        [
            "Pro Tag",
            "Per day",
            "Par jour",
            "Al giorno",
            "Por día",
            "Por dia",
            "Per dag",
        ],
    ),
    (
        "portal.priority",
        [
            "Höchste Priorität",
            "Highest priority",
            "Priorité maximale",
            "Priorità massima",
            "Prioridad máxima",
            "Prioridade máxima",
            "Hoogste prioriteit",
        ],
    ),
    (
        "portal.priority.high",
        ["hoch", "high", "haute", "alta", "alta", "alta", "hoog"],
    ),
    (
        "portal.priority.low",
        ["niedrig", "low", "basse", "bassa", "baja", "baixa", "laag"],
    ),
    (
        "portal.priority.normal",
        [
            "normal", "normal", "normale", "normale", "normal", "normal", "normaal",
        ],
    ),
    (
        "portal.read_only",
        [
            "Diese Einstellungen ändert der Administrator.",
            "These settings are changed by the administrator.",
            "Ces paramètres sont modifiés par l'administrateur.",
            "Queste impostazioni sono modificate dall'amministratore.",
            "Estos ajustes los cambia el administrador.",
            "Estas definições são alteradas pelo administrador.",
            "Deze instellingen worden door de beheerder gewijzigd.",
        ],
    ),
    (
        "portal.rights",
        [
            "Berechtigungen",
            "Rights",
            "Droits",
            "Diritti",
            "Derechos",
            "Direitos",
            "Rechten",
        ],
    ),
    (
        "portal.rights.internal",
        [
            "interne Nummern",
            "internal numbers",
            "numéros internes",
            "numeri interni",
            "números internos",
            "números internos",
            "interne nummers",
        ],
    ),
    (
        "portal.rights.international",
        [
            "internationale Nummern",
            "international numbers",
            "numéros internationaux",
            "numeri internazionali",
            "números internacionales",
            "números internacionais",
            "internationale nummers",
        ],
    ),
    (
        "portal.rights.local",
        [
            "Ortsnummern",
            "local numbers",
            "numéros locaux",
            "numeri locali",
            "números locales",
            "números locais",
            "lokale nummers",
        ],
    ),
    (
        "portal.rights.national",
        [
            "nationale Nummern",
            "national numbers",
            "numéros nationaux",
            "numeri nazionali",
            "números nacionales",
            "números nacionais",
            "nationale nummers",
        ],
    ),
    (
        "portal.rights.none",
        [
            "keine Nummern",
            "no numbers",
            "aucun numéro",
            "nessun numero",
            "ningún número",
            "nenhum número",
            "geen nummers",
        ],
    ),
    (
        "portal.save",
        [
            "Speichern",
            "Save",
            "Enregistrer",
            "Salva",
            "Guardar",
            "Guardar",
            "Opslaan",
        ],
    ),
    (
        "portal.saved",
        [
            "Gespeichert. Ihr nächster Auftrag verwendet die neuen Einstellungen.",
            "Saved. Your next job uses the new settings.",
            "Enregistré. Votre prochain envoi utilise les nouveaux paramètres.",
            "Salvato. Il prossimo invio usa le nuove impostazioni.",
            "Guardado. Su próximo envío usa los nuevos ajustes.",
            "Guardado. O seu próximo envio usa as novas definições.",
            "Opgeslagen. Uw volgende opdracht gebruikt de nieuwe instellingen.",
        ],
    ),
    (
        "portal.send_to",
        [
            "Senden an",
            "May send to",
            "Envoi vers",
            "Invio a",
            "Envío a",
            "Envio para",
            "Verzenden naar",
        ],
    ),
    (
        "portal.service",
        [
            "Dienst", "Service", "Service", "Servizio", "Servicio", "Serviço", "Dienst",
        ],
    ),
    (
        "portal.service.fax",
        ["Fax", "Fax", "Fax", "Fax", "Fax", "Fax", "Fax"],
    ),
    (
        "portal.service.sms",
        ["SMS", "SMS", "SMS", "SMS", "SMS", "SMS", "SMS"],
    ),
    (
        "portal.service.voice",
        [
            "Sprachnachricht",
            "Voice",
            "Message vocal",
            "Messaggio vocale",
            "Mensaje de voz",
            "Mensagem de voz",
            "Spraakbericht",
        ],
    ),
    (
        "portal.settings",
        [
            "Persönliche Einstellungen",
            "Personal settings",
            "Paramètres personnels",
            "Impostazioni personali",
            "Ajustes personales",
            "Definições pessoais",
            "Persoonlijke instellingen",
        ],
    ),
    (
        "portal.system_default",
        [
            "Systemvorgabe",
            "System default",
            "Valeur du système",
            "Predefinito di sistema",
            "Valor del sistema",
            "Predefinição do sistema",
            "Systeemstandaard",
        ],
    ),
    (
        "portal.title",
        [
            "Meine Einstellungen",
            "My settings",
            "Mes paramètres",
            "Le mie impostazioni",
            "Mis ajustes",
            "As minhas definições",
            "Mijn instellingen",
        ],
    ),
    (
        "portal.unavailable",
        [
            "Das Verzeichnis ist gerade nicht erreichbar. Bitte später erneut versuchen.",
            "The directory cannot be reached right now. Please try again later.",
            "L'annuaire est injoignable pour le moment. Veuillez réessayer plus tard.",
            "La directory non è raggiungibile al momento. Riprovare più tardi.",
            "El directorio no está disponible ahora. Inténtelo más tarde.",
            "O diretório não está acessível de momento. Tente novamente mais tarde.",
            "De directory is nu niet bereikbaar. Probeer het later opnieuw.",
        ],
    ),
    (
        "portal.unlimited",
        [
            "unbegrenzt",
            "unlimited",
            "illimité",
            "illimitato",
            "ilimitado",
            "ilimitado",
            "onbeperkt",
        ],
    ),
    (
        "portal.used_today",
        [
            "Heute gesendet",
            "Sent today",
            "Envoyés aujourd'hui",
            "Inviati oggi",
            "Enviados hoy",
            "Enviados hoje",
            "Vandaag verzonden",
        ],
    ),
    (
        "queue.attempts",
        [
            "Versuche",
            "Attempts",
            "Tentatives",
            "Tentativi",
            "Intentos",
            "Tentativas",
            "Pogingen",
        ],
    ),
    (
        "queue.badmail",
        [
            "Badmail", "Badmail", "Badmail", "Badmail", "Badmail", "Badmail", "Badmail",
        ],
    ),
    (
        "queue.deferred",
        [
            "Zurückgestellt",
            "Deferred",
            "Différés",
            "Rinviati",
            "Aplazados",
            "Adiados",
            "Uitgesteld",
        ],
    ),
    (
        "queue.deleted",
        [
            "Gelöscht",
            "Deleted",
            "Supprimé",
            "Eliminato",
            "Eliminado",
            "Eliminado",
            "Verwijderd",
        ],
    ),
    (
        "queue.error",
        [
            "Fehlerordner",
            "Error folder",
            "Dossier d'erreurs",
            "Cartella errori",
            "Carpeta de errores",
            "Pasta de erros",
            "Foutenmap",
        ],
    ),
    (
        "queue.from",
        [
            "Absender",
            "From",
            "Expéditeur",
            "Mittente",
            "Remitente",
            "Remetente",
            "Afzender",
        ],
    ),
    (
        "queue.headers",
        [
            "Kopfzeilen",
            "Headers",
            "En-têtes",
            "Intestazioni",
            "Encabezados",
            "Cabeçalhos",
            "Headers",
        ],
    ),
    (
        "queue.in_intake_log",
        [
            "Im Eingangsprotokoll (wird gerade verarbeitet)",
            "In the intake log (being processed)",
            "Dans le journal d'entrée (en cours de traitement)",
            "Nel log di ingresso (in elaborazione)",
            "En el registro de entrada (en proceso)",
            "No registo de entrada (em processamento)",
            "In het invoerlog (wordt verwerkt)",
        ],
    ),
    (
        "queue.incoming",
        [
            "Eingang",
            "Incoming",
            "Entrants",
            "In arrivo",
            "Entrantes",
            "A entrar",
            "Inkomend",
        ],
    ),
    (
        "queue.last_error",
        [
            "Letzter Fehler",
            "Last error",
            "Dernière erreur",
            "Ultimo errore",
            "Último error",
            "Último erro",
            "Laatste fout",
        ],
    ),
    (
        "queue.message",
        [
            "Nachricht",
            "Message",
            "Message",
            "Messaggio",
            "Mensaje",
            "Mensagem",
            "Bericht",
        ],
    ),
    (
        "queue.next",
        [
            "Weiter",
            "Next",
            "Suivant",
            "Avanti",
            "Siguiente",
            "Seguinte",
            "Volgende",
        ],
    ),
    (
        "queue.next_attempt",
        [
            "Nächster Versuch",
            "Next attempt",
            "Prochaine tentative",
            "Prossimo tentativo",
            "Próximo intento",
            "Próxima tentativa",
            "Volgende poging",
        ],
    ),
    (
        "queue.none",
        [
            "Keine Nachrichten",
            "No messages",
            "Aucun message",
            "Nessun messaggio",
            "No hay mensajes",
            "Sem mensagens",
            "Geen berichten",
        ],
    ),
    (
        "queue.outgoing",
        [
            "Ausgang",
            "Outgoing",
            "Sortants",
            "In uscita",
            "Salientes",
            "A sair",
            "Uitgaand",
        ],
    ),
    (
        "queue.previous",
        [
            "Zurück",
            "Previous",
            "Précédent",
            "Indietro",
            "Anterior",
            "Anterior",
            "Vorige",
        ],
    ),
    (
        "queue.print",
        [
            "Druck ausstehend",
            "Print pending",
            "Impression en attente",
            "Stampa in attesa",
            "Impresión pendiente",
            "Impressão pendente",
            "Afdruk in behandeling",
        ],
    ),
    (
        "queue.printer",
        [
            "Drucker",
            "Printer",
            "Imprimante",
            "Stampante",
            "Impresora",
            "Impressora",
            "Printer",
        ],
    ),
    (
        "queue.received",
        [
            "Empfangen",
            "Received",
            "Reçu",
            "Ricevuto",
            "Recibido",
            "Recebido",
            "Ontvangen",
        ],
    ),
    (
        "queue.requeued",
        [
            "Erneut eingereiht",
            "Requeued",
            "Remis en file",
            "Rimesso in coda",
            "Reencolado",
            "Reenviado",
            "Opnieuw in de wachtrij",
        ],
    ),
    (
        "queue.search_hint",
        [
            "Adresse, Nummer oder ID",
            "Address, number or id",
            "Adresse, numéro ou identifiant",
            "Indirizzo, numero o ID",
            "Dirección, número o ID",
            "Endereço, número ou ID",
            "Adres, nummer of id",
        ],
    ),
    (
        "queue.sidecar",
        [
            "Umschlag (Sidecar)",
            "Envelope (sidecar)",
            "Enveloppe (sidecar)",
            "Busta (sidecar)",
            "Sobre (sidecar)",
            "Envelope (sidecar)",
            "Envelop (sidecar)",
        ],
    ),
    (
        "queue.size",
        [
            "Größe",
            "Size",
            "Taille",
            "Dimensione",
            "Tamaño",
            "Tamanho",
            "Grootte",
        ],
    ),
    (
        "queue.title",
        [
            "Warteschlangen",
            "Queues",
            "Files d'attente",
            "Code",
            "Colas",
            "Filas",
            "Wachtrijen",
        ],
    ),
    (
        "queue.to",
        [
            "Empfänger",
            "To",
            "Destinataire",
            "Destinatario",
            "Destinatario",
            "Destinatário",
            "Ontvanger",
        ],
    ),
    (
        "queue.total",
        [
            "Gesamt", "Total", "Total", "Totale", "Total", "Total", "Totaal",
        ],
    ),
    (
        "test.called",
        [
            "Angerufene Nummer",
            "Called number",
            "Numéro appelé",
            "Numero chiamato",
            "Número llamado",
            "Número chamado",
            "Gebeld nummer",
        ],
    ),
    (
        "test.calling",
        [
            "Anrufende Nummer",
            "Calling number",
            "Numéro appelant",
            "Numero chiamante",
            "Número llamante",
            "Número chamador",
            "Bellend nummer",
        ],
    ),
    (
        "test.err_choice",
        [
            "Bitte Instanz und Dienst wählen.",
            "Choose an instance and a service.",
            "Choisissez une instance et un service.",
            "Scegliere un'istanza e un servizio.",
            "Elija una instancia y un servicio.",
            "Escolha uma instância e um serviço.",
            "Kies een instantie en een dienst.",
        ],
    ),
    (
        "test.err_instance",
        [
            "Diese Instanz gibt es nicht.",
            "There is no such instance.",
            "Cette instance n'existe pas.",
            "Questa istanza non esiste.",
            "Esta instancia no existe.",
            "Esta instância não existe.",
            "Deze instantie bestaat niet.",
        ],
    ),
    (
        "test.err_not_carried",
        [
            "Die Engine dieser Instanz führt diesen Dienst nicht.",
            "This instance's engine does not carry this service.",
            "Le moteur de cette instance ne prend pas en charge ce service.",
            "Il motore di questa istanza non gestisce questo servizio.",
            "El motor de esta instancia no admite este servicio.",
            "O motor desta instância não suporta este serviço.",
            "De engine van deze instantie ondersteunt deze dienst niet.",
        ],
    ),
    (
        "test.err_not_fax",
        [
            "Die Datei ist kein Faxdokument (TIFF oder PDF mit Seiten).",
            "The file is not a fax document (a TIFF or PDF with pages).",
            "Le fichier n'est pas un document de fax (TIFF ou PDF avec des pages).",
            "Il file non è un documento fax (TIFF o PDF con pagine).",
            "El archivo no es un documento de fax (TIFF o PDF con páginas).",
            "O ficheiro não é um documento de fax (TIFF ou PDF com páginas).",
            "Het bestand is geen faxdocument (TIFF of PDF met pagina's).",
        ],
    ),
    (
        "test.err_not_wav",
        [
            "Die Datei ist keine WAV-Datei, die eine Sprachnachricht braucht.",
            "The file is not a WAV file, which a voice message needs.",
            "Le fichier n'est pas un fichier WAV, nécessaire pour un message vocal.",
            "Il file non è un file WAV, necessario per un messaggio vocale.",
            "El archivo no es un archivo WAV, necesario para un mensaje de voz.",
            "O ficheiro não é um ficheiro WAV, necessário para uma mensagem de voz.",
            "Het bestand is geen WAV-bestand, dat een spraakbericht nodig heeft.",
        ],
    ),
    (
        "test.err_number",
        [
            "Die Nummern dürfen nur Ziffern, Leerzeichen und + ( ) - / . enthalten (1 bis 64 Zeichen).",
            "The numbers may only hold digits, spaces and + ( ) - / . (1 to 64 characters).",
            "Les numéros ne peuvent contenir que des chiffres, des espaces et + ( ) - / . (1 à 64 caractères).",
            "I numeri possono contenere solo cifre, spazi e + ( ) - / . (da 1 a 64 caratteri).",
            "Los números solo pueden contener dígitos, espacios y + ( ) - / . (de 1 a 64 caracteres).",
            "Os números só podem conter dígitos, espaços e + ( ) - / . (1 a 64 caracteres).",
            "De nummers mogen alleen cijfers, spaties en + ( ) - / . bevatten (1 tot 64 tekens).",
        ],
    ),
    (
        "test.err_text",
        [
            "Der SMS-Text darf nicht leer und nicht länger als 64 KB sein.",
            "The SMS text must not be empty nor longer than 64 KB.",
            "Le texte du SMS ne doit être ni vide ni plus long que 64 Ko.",
            "Il testo dell'SMS non deve essere vuoto né più lungo di 64 KB.",
            "El texto del SMS no debe estar vacío ni superar 64 KB.",
            "O texto do SMS não pode estar vazio nem ter mais de 64 KB.",
            "De sms-tekst mag niet leeg zijn en niet langer dan 64 KB.",
        ],
    ),
    (
        "test.err_too_large",
        [
            "Die Datei ist zu groß für eine Testnachricht.",
            "The file is too large for a test message.",
            "Le fichier est trop volumineux pour un message de test.",
            "Il file è troppo grande per un messaggio di prova.",
            "El archivo es demasiado grande para un mensaje de prueba.",
            "O ficheiro é demasiado grande para uma mensagem de teste.",
            "Het bestand is te groot voor een testbericht.",
        ],
    ),
    (
        "test.err_write",
        [
            "Die Nachricht konnte nicht geschrieben werden (siehe Protokoll).",
            "The message could not be written (see the log).",
            "Le message n'a pas pu être écrit (voir le journal).",
            "Il messaggio non è stato scritto (vedere il log).",
            "No se pudo escribir el mensaje (vea el registro).",
            "Não foi possível escrever a mensagem (veja o registo).",
            "Het bericht kon niet worden geschreven (zie het logbestand).",
        ],
    ),
    (
        "test.file",
        [
            "Datei", "File", "Fichier", "File", "Archivo", "Ficheiro", "Bestand",
        ],
    ),
    (
        "test.file_hint",
        [
            "Fax: TIFF oder PDF; Sprache: WAV; ohne Datei ein eingebautes Testfax bzw. eine Testaufnahme",
            "Fax: TIFF or PDF; voice: WAV; without a file a built-in test fax or recording",
            "Fax : TIFF ou PDF ; voix : WAV ; sans fichier, un fax ou un enregistrement de test intégré",
            "Fax: TIFF o PDF; voce: WAV; senza file un fax o una registrazione di prova incorporati",
            "Fax: TIFF o PDF; voz: WAV; sin archivo, un fax o una grabación de prueba incorporados",
            "Fax: TIFF ou PDF; voz: WAV; sem ficheiro, um fax ou uma gravação de teste incorporados",
            "Fax: TIFF of PDF; spraak: WAV; zonder bestand een ingebouwde testfax of -opname",
        ],
    ),
    (
        "test.follow_log",
        [
            "Im Protokoll verfolgen",
            "Follow it in the log",
            "Suivre dans le journal",
            "Segui nel log",
            "Seguir en el registro",
            "Acompanhar no registo",
            "Volgen in het logbestand",
        ],
    ),
    (
        "test.follow_queue",
        [
            "Ausgangswarteschlange",
            "Outgoing queue",
            "File sortante",
            "Coda in uscita",
            "Cola de salida",
            "Fila de saída",
            "Uitgaande wachtrij",
        ],
    ),
    (
        "test.intro",
        [
            "Die Nachricht nimmt den echten Weg: als wäre sie von der Engine empfangen, wird sie dem Benutzer der angerufenen Nummer als Mail zugestellt.",
            "The message takes the real path: as if the engine had received it, it is delivered as mail to the user of the called number.",
            "Le message suit le vrai chemin : comme s'il avait été reçu par le moteur, il est remis par courriel à l'utilisateur du numéro appelé.",
            "Il messaggio segue il percorso reale: come se il motore l'avesse ricevuto, viene consegnato per e-mail all'utente del numero chiamato.",
            "El mensaje sigue el camino real: como si el motor lo hubiera recibido, se entrega por correo al usuario del número llamado.",
            "A mensagem segue o caminho real: como se o motor a tivesse recebido, é entregue por correio ao utilizador do número chamado.",
            "Het bericht volgt de echte weg: alsof de engine het ontving, wordt het als mail bezorgd bij de gebruiker van het gebelde nummer.",
        ],
    ),
    (
        "test.not_running",
        [
            "läuft nicht",
            "not running",
            "arrêtée",
            "non in esecuzione",
            "detenida",
            "parada",
            "draait niet",
        ],
    ),
    (
        "test.send",
        [
            "Senden",
            "Send",
            "Envoyer",
            "Invia",
            "Enviar",
            "Enviar",
            "Verzenden",
        ],
    ),
    (
        "test.service",
        [
            "Dienst", "Service", "Service", "Servizio", "Servicio", "Serviço", "Dienst",
        ],
    ),
    (
        "test.service.fax",
        ["Fax", "Fax", "Fax", "Fax", "Fax", "Fax", "Fax"],
    ),
    (
        "test.service.sms",
        ["SMS", "SMS", "SMS", "SMS", "SMS", "SMS", "Sms"],
    ),
    (
        "test.service.voice",
        [
            "Sprachnachricht",
            "Voice message",
            "Message vocal",
            "Messaggio vocale",
            "Mensaje de voz",
            "Mensagem de voz",
            "Spraakbericht",
        ],
    ),
    (
        "test.text",
        [
            "SMS-Text (leer: ein Testtext)",
            "SMS text (empty: a test text)",
            "Texte du SMS (vide : un texte de test)",
            "Testo SMS (vuoto: un testo di prova)",
            "Texto del SMS (vacío: un texto de prueba)",
            "Texto do SMS (vazio: um texto de teste)",
            "Sms-tekst (leeg: een testtekst)",
        ],
    ),
    (
        "test.title",
        [
            "Testnachricht senden",
            "Send test message",
            "Envoyer un message de test",
            "Invia messaggio di prova",
            "Enviar mensaje de prueba",
            "Enviar mensagem de teste",
            "Testbericht verzenden",
        ],
    ),
    (
        "test.too_large",
        [
            "Die hochgeladene Datei ist größer als erlaubt (20 MB für eine Testnachricht).",
            "The upload is larger than allowed (20 MB for a test message).",
            "Le fichier envoyé dépasse la taille permise (20 Mo pour un message de test).",
            "Il file caricato supera la dimensione consentita (20 MB per un messaggio di prova).",
            "El archivo subido supera el tamaño permitido (20 MB para un mensaje de prueba).",
            "O ficheiro enviado excede o tamanho permitido (20 MB para uma mensagem de teste).",
            "Het geüploade bestand is groter dan toegestaan (20 MB voor een testbericht).",
        ],
    ),
    (
        "test.written",
        [
            "Als empfangene Nachricht geschrieben",
            "Written as a received message",
            "Écrit comme message reçu",
            "Scritto come messaggio ricevuto",
            "Escrito como mensaje recibido",
            "Escrito como mensagem recebida",
            "Geschreven als ontvangen bericht",
        ],
    ),
    (
        "users.attribute",
        [
            "UMS-Attribut",
            "UMS attribute",
            "Attribut UMS",
            "Attributo UMS",
            "Atributo UMS",
            "Atributo UMS",
            "UMS-attribuut",
        ],
    ),
    (
        "users.effective",
        [
            "Gilt",
            "Applies",
            "S'applique",
            "Vale",
            "Se aplica",
            "Aplica-se",
            "Geldt",
        ],
    ),
    (
        "users.error.instance",
        [
            "Diese Instanz läuft nicht.",
            "This instance is not running.",
            "Cette instance ne tourne pas.",
            "Questa istanza non è in esecuzione.",
            "Esta instancia no está en marcha.",
            "Esta instância não está em execução.",
            "Deze instantie draait niet.",
        ],
    ),
    (
        "users.error.invalid",
        [
            "Wert abgelehnt, nichts wurde geschrieben",
            "Value refused, nothing was written",
            "Valeur refusée, rien n'a été écrit",
            "Valore rifiutato, nulla è stato scritto",
            "Valor rechazado, no se escribió nada",
            "Valor recusado, nada foi escrito",
            "Waarde geweigerd, niets is geschreven",
        ],
    ),
    (
        "users.error.malformed",
        [
            "Das UMS-Attribut ist fehlerhaft (es gelten nur die Vorgaben); im Verzeichnis reparieren oder leeren",
            "The UMS attribute is malformed (only the defaults apply); repair or clear it in the directory",
            "L'attribut UMS est mal formé (seuls les défauts s'appliquent) ; réparez-le ou videz-le dans l'annuaire",
            "L'attributo UMS non è valido (valgono solo i predefiniti); ripararlo o svuotarlo nella directory",
            "El atributo UMS está mal formado (solo se aplican los predeterminados); repárelo o vacíelo en el directorio",
            "O atributo UMS está mal formado (só se aplicam as predefinições); repare-o ou limpe-o no diretório",
            "Het UMS-attribuut is onjuist (alleen de standaarden gelden); herstel of leeg het in de directory",
        ],
    ),
    (
        "users.error.not_found",
        [
            "Nicht im Verzeichnis.",
            "Not in the directory.",
            "Absent de l'annuaire.",
            "Non presente nella directory.",
            "No está en el directorio.",
            "Não está no diretório.",
            "Niet in de directory.",
        ],
    ),
    (
        "users.error.refused",
        [
            "Das Verzeichnis hat die Änderung abgelehnt",
            "The directory refused the change",
            "L'annuaire a refusé la modification",
            "La directory ha rifiutato la modifica",
            "El directorio rechazó el cambio",
            "O diretório recusou a alteração",
            "De directory heeft de wijziging geweigerd",
        ],
    ),
    (
        "users.error.target",
        [
            "Weder eine Mail-Adresse noch eine Nummer",
            "Neither a mail address nor a number",
            "Ni une adresse e-mail ni un numéro",
            "Né un indirizzo e-mail né un numero",
            "Ni una dirección de correo ni un número",
            "Nem um endereço de e-mail nem um número",
            "Geen e-mailadres en geen nummer",
        ],
    ),
    (
        "users.error.unavailable",
        [
            "Das Verzeichnis antwortet nicht, bitte später erneut versuchen",
            "The directory does not answer, try again later",
            "L'annuaire ne répond pas, réessayez plus tard",
            "La directory non risponde, riprovare più tardi",
            "El directorio no responde, inténtelo más tarde",
            "O diretório não responde, tente mais tarde",
            "De directory antwoordt niet, probeer het later opnieuw",
        ],
    ),
    (
        "users.file",
        [
            "Die Benutzerdatei bearbeitet nur der Administrator von Hand: diese Zeilen dort beim Benutzer eintragen (die Instanz liest die Datei neu, sobald sie sich ändert).",
            "The users file is edited by hand only: put these lines at the user there (the instance reads the file again when it changes).",
            "Le fichier des utilisateurs se modifie à la main : placez ces lignes chez l'utilisateur (l'instance relit le fichier dès qu'il change).",
            "Il file degli utenti si modifica solo a mano: inserire queste righe presso l'utente (l'istanza rilegge il file quando cambia).",
            "El archivo de usuarios se edita solo a mano: ponga estas líneas en el usuario (la instancia vuelve a leer el archivo cuando cambia).",
            "O ficheiro de utilizadores edita-se só à mão: coloque estas linhas no utilizador (a instância volta a ler o ficheiro quando muda).",
            "Het gebruikersbestand wordt alleen met de hand bewerkt: zet deze regels daar bij de gebruiker (de instantie leest het bestand opnieuw zodra het verandert).",
        ],
    ),
    (
        "users.find",
        [
            "Suchen", "Find", "Chercher", "Cerca", "Buscar", "Procurar", "Zoeken",
        ],
    ),
    (
        "users.kept",
        [
            "bleibt erhalten",
            "kept",
            "conservée",
            "mantenuta",
            "se conserva",
            "mantida",
            "blijft behouden",
        ],
    ),
    (
        "users.key",
        [
            "Schlüssel",
            "Key",
            "Clé",
            "Chiave",
            "Clave",
            "Chave",
            "Sleutel",
        ],
    ),
    (
        "users.not_set",
        [
            "nicht gesetzt",
            "not set",
            "non défini",
            "non impostato",
            "no definido",
            "não definido",
            "niet ingesteld",
        ],
    ),
    (
        "users.own",
        [
            "Eigener Wert",
            "Own value",
            "Valeur propre",
            "Valore proprio",
            "Valor propio",
            "Valor próprio",
            "Eigen waarde",
        ],
    ),
    (
        "users.replace_malformed",
        [
            "Das fehlerhafte Attribut durch die Werte oben ersetzen",
            "Replace the malformed attribute by the values above",
            "Remplacer l'attribut mal formé par les valeurs ci-dessus",
            "Sostituire l'attributo non valido con i valori sopra",
            "Sustituir el atributo mal formado por los valores de arriba",
            "Substituir o atributo mal formado pelos valores acima",
            "Het onjuiste attribuut vervangen door de waarden hierboven",
        ],
    ),
    (
        "users.save",
        [
            "Speichern",
            "Save",
            "Enregistrer",
            "Salva",
            "Guardar",
            "Guardar",
            "Opslaan",
        ],
    ),
    (
        "users.saved",
        [
            "Gespeichert.",
            "Saved.",
            "Enregistré.",
            "Salvato.",
            "Guardado.",
            "Guardado.",
            "Opgeslagen.",
        ],
    ),
    (
        "users.search",
        [
            "Adresse oder Nummer",
            "Address or number",
            "Adresse ou numéro",
            "Indirizzo o numero",
            "Dirección o número",
            "Endereço ou número",
            "Adres of nummer",
        ],
    ),
    (
        "users.source",
        [
            "Herkunft", "From", "Origine", "Origine", "Origen", "Origem", "Herkomst",
        ],
    ),
    (
        "users.source.built_in",
        [
            "feste Vorgabe",
            "built-in default",
            "défaut intégré",
            "predefinito interno",
            "predeterminado interno",
            "predefinição interna",
            "ingebouwde standaard",
        ],
    ),
    (
        "users.source.instance",
        [
            "Vorgabe der Instanz",
            "instance default",
            "défaut de l'instance",
            "predefinito dell'istanza",
            "predeterminado de la instancia",
            "predefinição da instância",
            "standaard van de instantie",
        ],
    ),
    (
        "users.source.unknown",
        [
            "unbekannter Schlüssel",
            "unknown key",
            "clé inconnue",
            "chiave sconosciuta",
            "clave desconocida",
            "chave desconhecida",
            "onbekende sleutel",
        ],
    ),
    (
        "users.source.user",
        [
            "Attribut des Benutzers",
            "user's attribute",
            "attribut de l'utilisateur",
            "attributo dell'utente",
            "atributo del usuario",
            "atributo do utilizador",
            "attribuut van de gebruiker",
        ],
    ),
    (
        "users.title",
        [
            "Benutzer",
            "Users",
            "Utilisateurs",
            "Utenti",
            "Usuarios",
            "Utilizadores",
            "Gebruikers",
        ],
    ),
    (
        "users.unchanged",
        [
            "Nichts geändert.",
            "Nothing changed.",
            "Rien n'a changé.",
            "Nessuna modifica.",
            "Nada ha cambiado.",
            "Nada foi alterado.",
            "Niets gewijzigd.",
        ],
    ),
    (
        "word.disabled",
        [
            "deaktiviert",
            "disabled",
            "désactivée",
            "disattivata",
            "desactivada",
            "desativada",
            "uitgeschakeld",
        ],
    ),
    (
        "word.held",
        [
            "angehalten (hold)",
            "held (hold)",
            "retenue (hold)",
            "trattenuta (hold)",
            "retenida (hold)",
            "retida (hold)",
            "vastgehouden (hold)",
        ],
    ),
    (
        "word.instance",
        [
            "Instanz",
            "Instance",
            "Instance",
            "Istanza",
            "Instancia",
            "Instância",
            "Instantie",
        ],
    ),
    (
        "word.none",
        [
            "keine", "none", "aucune", "nessuno", "ninguno", "nenhum", "geen",
        ],
    ),
    (
        "word.running",
        [
            "läuft",
            "running",
            "en marche",
            "in esecuzione",
            "en marcha",
            "em execução",
            "actief",
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_complete() {
        for w in STRINGS.windows(2) {
            assert!(w[0].0 < w[1].0, "{} before {}", w[0].0, w[1].0);
        }
        for (k, texts) in STRINGS {
            for (i, t) in texts.iter().enumerate() {
                assert!(!t.trim().is_empty(), "{k} is empty in language {i}");
            }
        }
        assert_eq!(text(Language::De, "login.password"), "Passwort");
        assert_eq!(text(Language::Nl, "login.password"), "Wachtwoord");
        assert_eq!(text(Language::En, "no.such.key"), "??");
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(None, None), Language::En);
        assert_eq!(
            negotiate(None, Some("de-DE,de;q=0.9,en;q=0.8")),
            Language::De
        );
        assert_eq!(negotiate(None, Some("en;q=0.5, fr-CA;q=0.9")), Language::Fr);
        assert_eq!(negotiate(None, Some("ja, nl;q=0.1")), Language::Nl);
        assert_eq!(negotiate(None, Some("ja, zh")), Language::En);
        assert_eq!(
            negotiate(Some("pt"), Some("de")),
            Language::Pt,
            "cookie wins"
        );
        assert_eq!(negotiate(Some("xx"), Some("it")), Language::It);
        assert_eq!(negotiate(None, Some("de;q=0")), Language::En);
    }
}
