<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR">
<context>
    <name>About</name>
    <message>
        <source>Desktop radiology workstation with a local AI second reader.</source>
        <translation>Station de lecture radiologique avec second lecteur IA local.</translation>
    </message>
    <message>
        <source>Licence: Apache License 2.0.</source>
        <translation>Licence : Apache License 2.0.</translation>
    </message>
    <message>
        <source>Research use only — not for clinical use.</source>
        <translation>Usage recherche uniquement — ne pas utiliser en clinique.</translation>
    </message>
</context>
<context>
    <name>AiPanel</name>
    <message>
        <source>AI second reader</source>
        <translation>Second lecteur IA</translation>
    </message>
    <message>
        <source>AI second reader — research use only, not for clinical use.</source>
        <translation>Second lecteur IA — usage recherche uniquement, ne pas utiliser en clinique.</translation>
    </message>
    <message>
        <source>Research use only — not for clinical use</source>
        <translation>Usage recherche uniquement — ne pas utiliser en clinique</translation>
    </message>
    <message>
        <source>Show AI overlays</source>
        <translation>Afficher les superpositions IA</translation>
    </message>
    <message>
        <source>Key: A</source>
        <translation>Touche : A</translation>
    </message>
    <message>
        <source>Inferno</source>
        <translation>Inferno</translation>
    </message>
    <message>
        <source>Turbo</source>
        <translation>Turbo</translation>
    </message>
    <message>
        <source>Heatmap</source>
        <translation>Carte de chaleur</translation>
    </message>
    <message>
        <source>Opacity</source>
        <translation>Opacité</translation>
    </message>
    <message>
        <source>Heatmap values under the threshold are not drawn</source>
        <translation>Les valeurs de la carte de chaleur sous le seuil ne sont pas affichées</translation>
    </message>
    <message>
        <source>Threshold</source>
        <translation>Seuil</translation>
    </message>
    <message>
        <source>No AI model is installed.</source>
        <translation>Aucun modèle d&apos;IA n&apos;est installé.</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <source>Run AI</source>
        <translation>Lancer l&apos;IA</translation>
    </message>
    <message>
        <source>AI results ready — sign your reading to see them</source>
        <translation>Résultats de l&apos;IA prêts — signez votre lecture pour les voir</translation>
    </message>
    <message>
        <source>AI is reading in the background — sign your reading to see its results</source>
        <translation>L&apos;IA lit en arrière-plan — signez votre lecture pour voir ses résultats</translation>
    </message>
    <message>
        <source>unknown problem</source>
        <translation>problème inconnu</translation>
    </message>
    <message numerus="yes">
        <source>(+%n more)</source>
        <translation>
            <numerusform>(+ %n autre)</numerusform>
            <numerusform>(+ %n autres)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>AiReason</name>
    <message>
        <source>modality %1; this model is for %2</source>
        <translation>modalité %1 ; ce modèle est prévu pour %2</translation>
    </message>
    <message>
        <source>body part %1; this model is for %2</source>
        <translation>région anatomique %1 ; ce modèle est prévu pour %2</translation>
    </message>
    <message>
        <source>view %1; this model is for %2</source>
        <translation>incidence %1 ; ce modèle est prévu pour %2</translation>
    </message>
    <message>
        <source>photometric interpretation %1; this model is for %2</source>
        <translation>interprétation photométrique %1 ; ce modèle est prévu pour %2</translation>
    </message>
    <message>
        <source>image type %1; this model is for %2 images</source>
        <translation>type d’image %1 ; ce modèle est prévu pour les images %2</translation>
    </message>
    <message>
        <source>patient aged %1; this model is for ages %2 and above</source>
        <translation>patient de %1 ans ; ce modèle est prévu à partir de %2 ans</translation>
    </message>
    <message>
        <source>patient aged %1; this model is for ages up to %2</source>
        <translation>patient de %1 ans ; ce modèle est prévu jusqu’à %2 ans</translation>
    </message>
    <message>
        <source>image unlike the model&apos;s training images (distance %1, limit %2)</source>
        <translation>image trop différente des images d’entraînement du modèle (distance %1, limite %2)</translation>
    </message>
    <message>
        <source>model unavailable: %1</source>
        <translation>modèle indisponible : %1</translation>
    </message>
</context>
<context>
    <name>AuditWindow</name>
    <message>
        <source>Reading audit</source>
        <translation>Audit des lectures</translation>
    </message>
    <message>
        <source>From</source>
        <translation>Du</translation>
    </message>
    <message>
        <source>to</source>
        <translation>au</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>Exporter en CSV…</translation>
    </message>
    <message>
        <source>One row per signed case of the period</source>
        <translation>Une ligne par cas signé de la période</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modèle</translation>
    </message>
    <message>
        <source>Cases</source>
        <translation>Cas</translation>
    </message>
    <message>
        <source>Agreement</source>
        <translation>Accord</translation>
    </message>
    <message>
        <source>AI-only findings</source>
        <translation>Anomalies IA seule</translation>
    </message>
    <message>
        <source>Accepted</source>
        <translation>Acceptées</translation>
    </message>
    <message>
        <source>Dismissed</source>
        <translation>Rejetées</translation>
    </message>
    <message>
        <source>Median time per case</source>
        <translation>Durée médiane par cas</translation>
    </message>
    <message>
        <source>Agreement rate per model (%)</source>
        <translation>Taux d&apos;accord par modèle (%)</translation>
    </message>
    <message>
        <source>AI-only findings: accepted vs dismissed</source>
        <translation>Anomalies IA seule : acceptées / rejetées</translation>
    </message>
    <message>
        <source>Could not read the audit: %1</source>
        <translation>Lecture de l&apos;audit impossible : %1</translation>
    </message>
    <message>
        <source>Signed cases in the period: %1</source>
        <translation>Cas signés sur la période : %1</translation>
    </message>
    <message>
        <source>No signed reading in this period.</source>
        <translation>Aucune lecture signée sur cette période.</translation>
    </message>
    <message>
        <source>(no model)</source>
        <translation>(aucun modèle)</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 s</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 min %2 s</translation>
    </message>
    <message>
        <source>agreement</source>
        <translation>accord</translation>
    </message>
    <message>
        <source>accepted</source>
        <translation>acceptées</translation>
    </message>
    <message>
        <source>dismissed</source>
        <translation>rejetées</translation>
    </message>
    <message>
        <source>Export the audit as CSV</source>
        <translation>Exporter l&apos;audit en CSV</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>Fichiers CSV (*.csv)</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>Écriture de %1 impossible : %2</translation>
    </message>
    <message>
        <source>Saved %1 rows to %2</source>
        <translation>%1 lignes enregistrées dans %2</translation>
    </message>
</context>
<context>
    <name>BarChart</name>
    <message>
        <source>No data</source>
        <translation>Aucune donnée</translation>
    </message>
</context>
<context>
    <name>ConcordancePanel</name>
    <message>
        <source>The comparison with the AI appears here once your first reading is signed.</source>
        <translation>La comparaison avec l&apos;IA apparaît ici une fois votre première lecture signée.</translation>
    </message>
    <message>
        <source>◀ Previous</source>
        <translation>◀ Précédent</translation>
    </message>
    <message>
        <source>Previous finding (key: %1)</source>
        <translation>Anomalie précédente (touche : %1)</translation>
    </message>
    <message>
        <source>Next ▶</source>
        <translation>Suivant ▶</translation>
    </message>
    <message>
        <source>Next finding, possible misses first (key: %1)</source>
        <translation>Anomalie suivante, omissions possibles d&apos;abord (touche : %1)</translation>
    </message>
    <message>
        <source>Next AI finding</source>
        <translation>Anomalie IA suivante</translation>
    </message>
    <message>
        <source>Previous AI finding</source>
        <translation>Anomalie IA précédente</translation>
    </message>
    <message>
        <source>artefact</source>
        <translation>artefact</translation>
    </message>
    <message>
        <source>known / old lesion</source>
        <translation>lésion connue / ancienne</translation>
    </message>
    <message>
        <source>outside the field of interest</source>
        <translation>hors du champ d&apos;intérêt</translation>
    </message>
    <message>
        <source>not a lesion</source>
        <translation>pas une lésion</translation>
    </message>
    <message>
        <source>AI only: %1</source>
        <translation>IA seule : %1</translation>
    </message>
    <message>
        <source>Agreed: %1</source>
        <translation>Concordants : %1</translation>
    </message>
    <message>
        <source>Reader only: %1</source>
        <translation>Lecteur seul : %1</translation>
    </message>
    <message>
        <source>No AI finding</source>
        <translation>Aucune anomalie IA</translation>
    </message>
    <message>
        <source>%1 of %2</source>
        <translation>%1 sur %2</translation>
    </message>
    <message>
        <source>Discordant — review the possible misses</source>
        <translation>Discordant — revoir les omissions possibles</translation>
    </message>
    <message>
        <source>Concordant</source>
        <translation>Concordant</translation>
    </message>
    <message>
        <source>Image %1</source>
        <translation>Image %1</translation>
    </message>
    <message>
        <source>normal</source>
        <translation>normal</translation>
    </message>
    <message>
        <source>abnormal</source>
        <translation>anormal</translation>
    </message>
    <message>
        <source>present</source>
        <translation>présente</translation>
    </message>
    <message>
        <source>absent</source>
        <translation>absente</translation>
    </message>
    <message>
        <source>not assessed</source>
        <translation>non évalué</translation>
    </message>
    <message>
        <source>agree</source>
        <translation>accord</translation>
    </message>
    <message>
        <source>disagree</source>
        <translation>désaccord</translation>
    </message>
    <message>
        <source>undetermined</source>
        <translation>indéterminé</translation>
    </message>
    <message>
        <source>R</source>
        <translation>D</translation>
    </message>
    <message>
        <source>L</source>
        <translation>G</translation>
    </message>
    <message>
        <source>Reader: %1</source>
        <translation>Lecteur : %1</translation>
    </message>
    <message>
        <source>AI: %1</source>
        <translation>IA : %1</translation>
    </message>
    <message>
        <source>Your marks on images the AI did not analyse: %1</source>
        <translation>Vos marques sur des images non analysées par l&apos;IA : %1</translation>
    </message>
</context>
<context>
    <name>CrashNotifier</name>
    <message>
        <source>Tandem hit an error; a report was saved to %1. You can go on working; please send the report to your support.</source>
        <translation>Tandem a rencontré une erreur ; un rapport a été enregistré dans %1. Vous pouvez continuer à travailler ; merci d&apos;envoyer ce rapport à votre support.</translation>
    </message>
    <message>
        <source>Tandem</source>
        <translation>Tandem</translation>
    </message>
</context>
<context>
    <name>ErrorsPanel</name>
    <message>
        <source>Files that could not be read</source>
        <translation>Fichiers illisibles</translation>
    </message>
    <message>
        <source>No problems.</source>
        <translation>Aucun problème.</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Fichier</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>Problème</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>Détails</translation>
    </message>
    <message>
        <source>Copy list</source>
        <translation>Copier la liste</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>Effacer</translation>
    </message>
    <message numerus="yes">
        <source>%n file(s) could not be read.</source>
        <translation>
            <numerusform>%n fichier n&apos;a pas pu être lu.</numerusform>
            <numerusform>%n fichiers n&apos;ont pas pu être lus.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>FirstRunDialog</name>
    <message>
        <source>Tandem — first start</source>
        <translation>Tandem — premier démarrage</translation>
    </message>
    <message>
        <source>Check these settings once; you can change them later from the Tools menu. The AI models are for research use only.</source>
        <translation>Vérifiez ces réglages une fois ; vous pourrez les modifier ensuite depuis le menu Outils. Les modèles d&apos;IA sont réservés à la recherche.</translation>
    </message>
    <message>
        <source>Finish</source>
        <translation>Terminer</translation>
    </message>
    <message>
        <source>Later</source>
        <translation>Plus tard</translation>
    </message>
    <message>
        <source>Data folder (studies database, copies, logs)</source>
        <translation>Dossier de données (base des examens, copies, journaux)</translation>
    </message>
    <message>
        <source>Change…</source>
        <translation>Modifier…</translation>
    </message>
    <message>
        <source>DICOM network</source>
        <translation>Réseau DICOM</translation>
    </message>
    <message>
        <source>port</source>
        <translation>port</translation>
    </message>
    <message>
        <source>Tandem&apos;s AE title</source>
        <translation>AE title de Tandem</translation>
    </message>
    <message>
        <source>optional, e.g. PACS</source>
        <translation>facultatif, p. ex. PACS</translation>
    </message>
    <message>
        <source>host name or IP address</source>
        <translation>nom d&apos;hôte ou adresse IP</translation>
    </message>
    <message>
        <source>PACS name</source>
        <translation>Nom du PACS</translation>
    </message>
    <message>
        <source>host</source>
        <translation>hôte</translation>
    </message>
    <message>
        <source>PACS AE title</source>
        <translation>AE title du PACS</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>Tester la connexion</translation>
    </message>
    <message>
        <source>AI acceleration</source>
        <translation>Accélération de l&apos;IA</translation>
    </message>
    <message>
        <source>none: ONNX Runtime is missing</source>
        <translation>aucun : ONNX Runtime est absent</translation>
    </message>
    <message>
        <source>known after the self-test</source>
        <translation>connu après l&apos;autotest</translation>
    </message>
    <message>
        <source>Providers found</source>
        <translation>Fournisseurs trouvés</translation>
    </message>
    <message>
        <source>Used for the models</source>
        <translation>Utilisé pour les modèles</translation>
    </message>
    <message>
        <source>Self-test of the AI models</source>
        <translation>Autotest des modèles d&apos;IA</translation>
    </message>
    <message>
        <source>Run the self-test</source>
        <translation>Lancer l&apos;autotest</translation>
    </message>
    <message>
        <source>Each model runs once on its bundled sample image.</source>
        <translation>Chaque modèle s&apos;exécute une fois sur son image d&apos;exemple fournie.</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modèle</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>Résultat</translation>
    </message>
    <message>
        <source>Score</source>
        <translation>Score</translation>
    </message>
    <message>
        <source>Start (ms)</source>
        <translation>Démarrage (ms)</translation>
    </message>
    <message>
        <source>Run (ms)</source>
        <translation>Exécution (ms)</translation>
    </message>
    <message>
        <source>Runs on</source>
        <translation>S&apos;exécute sur</translation>
    </message>
    <message>
        <source>Tandem&apos;s data folder</source>
        <translation>Dossier de données de Tandem</translation>
    </message>
    <message>
        <source>Enter the PACS name, AE title, host and port first.</source>
        <translation>Saisissez d&apos;abord le nom, l&apos;AE title, l&apos;hôte et le port du PACS.</translation>
    </message>
    <message>
        <source>Testing…</source>
        <translation>Test en cours…</translation>
    </message>
    <message>
        <source>Connection OK (%1 ms)</source>
        <translation>Connexion réussie (%1 ms)</translation>
    </message>
    <message>
        <source>Connection failed: %1</source>
        <translation>Échec de la connexion : %1</translation>
    </message>
    <message>
        <source>Running…</source>
        <translation>Exécution…</translation>
    </message>
    <message>
        <source>Running %1 (%2 of %3)…</source>
        <translation>Exécution de %1 (%2 sur %3)…</translation>
    </message>
    <message>
        <source>The self-test failed: %1</source>
        <translation>L&apos;autotest a échoué : %1</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>Failed: %1</source>
        <translation>Échec : %1</translation>
    </message>
    <message>
        <source>%1 of %2 models passed.</source>
        <translation>%1 modèle(s) sur %2 réussi(s).</translation>
    </message>
    <message>
        <source>no model could run</source>
        <translation>aucun modèle n&apos;a pu s&apos;exécuter</translation>
    </message>
    <message>
        <source>Cannot write to %1 (%2)</source>
        <translation>Impossible d&apos;écrire dans %1 (%2)</translation>
    </message>
</context>
<context>
    <name>ListenerService</name>
    <message>
        <source>Cannot receive studies: %1</source>
        <translation>Impossible de recevoir des examens : %1</translation>
    </message>
    <message>
        <source>Listening on port %1 as %2</source>
        <translation>En écoute sur le port %1 en tant que %2</translation>
    </message>
    <message numerus="yes">
        <source>Receiving: %n image(s)</source>
        <translation>
            <numerusform>Réception : %n image</numerusform>
            <numerusform>Réception : %n images</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n refused</source>
        <translation>
            <numerusform>%n refusée</numerusform>
            <numerusform>%n refusées</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Tandem</source>
        <translation>Tandem</translation>
    </message>
    <message>
        <source>Studies</source>
        <translation>Examens</translation>
    </message>
    <message>
        <source>Concordance</source>
        <translation>Concordance</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <source>Stop the import (files already read stay)</source>
        <translation>Arrêter l&apos;import (les fichiers déjà lus sont conservés)</translation>
    </message>
    <message>
        <source>Open &amp;folder…</source>
        <translation>Ouvrir un &amp;dossier…</translation>
    </message>
    <message>
        <source>Open f&amp;iles…</source>
        <translation>Ouvrir des f&amp;ichiers…</translation>
    </message>
    <message>
        <source>Import &amp;DICOMDIR/CD…</source>
        <translation>Importer un DICOMDIR/&amp;CD…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Quitter</translation>
    </message>
    <message>
        <source>&amp;About Tandem</source>
        <translation>À &amp;propos de Tandem</translation>
    </message>
    <message>
        <source>1 × 1</source>
        <translation>1 × 1</translation>
    </message>
    <message>
        <source>1 × 2</source>
        <translation>1 × 2</translation>
    </message>
    <message>
        <source>2 × 2</source>
        <translation>2 × 2</translation>
    </message>
    <message>
        <source>Mammography 4-view</source>
        <translation>Mammographie 4 vues</translation>
    </message>
    <message>
        <source>Previous image</source>
        <translation>Image précédente</translation>
    </message>
    <message>
        <source>Next image</source>
        <translation>Image suivante</translation>
    </message>
    <message>
        <source>First image</source>
        <translation>Première image</translation>
    </message>
    <message>
        <source>Last image</source>
        <translation>Dernière image</translation>
    </message>
    <message>
        <source>Previous series</source>
        <translation>Série précédente</translation>
    </message>
    <message>
        <source>Next series</source>
        <translation>Série suivante</translation>
    </message>
    <message>
        <source>Invert</source>
        <translation>Inverser</translation>
    </message>
    <message>
        <source>Reset view</source>
        <translation>Réinitialiser</translation>
    </message>
    <message>
        <source>Fit to window</source>
        <translation>Ajuster à la fenêtre</translation>
    </message>
    <message>
        <source>Maximise viewport</source>
        <translation>Agrandir la vue</translation>
    </message>
    <message>
        <source>Actual pixels (1:1)</source>
        <translation>Pixels réels (1:1)</translation>
    </message>
    <message>
        <source>Stop the AI analysis of this image</source>
        <translation>Arrêter l&apos;analyse IA de cette image</translation>
    </message>
    <message>
        <source>DICOM overlays</source>
        <translation>Incrustations DICOM</translation>
    </message>
    <message>
        <source>&amp;Run AI on this image</source>
        <translation>&amp;Lancer l&apos;IA sur cette image</translation>
    </message>
    <message>
        <source>&amp;Cancel AI analysis</source>
        <translation>A&amp;nnuler l&apos;analyse IA</translation>
    </message>
    <message>
        <source>&amp;Show AI overlays</source>
        <translation>&amp;Afficher les superpositions IA</translation>
    </message>
    <message>
        <source>&amp;MPR (coronal, sagittal, axial)</source>
        <translation>&amp;MPR (coronal, sagittal, axial)</translation>
    </message>
    <message>
        <source>Window/level</source>
        <translation>Fenêtrage</translation>
    </message>
    <message>
        <source>Measure distance</source>
        <translation>Mesurer une distance</translation>
    </message>
    <message>
        <source>Measure angle</source>
        <translation>Mesurer un angle</translation>
    </message>
    <message>
        <source>Pan</source>
        <translation>Déplacer</translation>
    </message>
    <message>
        <source>Zoom</source>
        <translation>Zoom</translation>
    </message>
    <message>
        <source>Crosshair (MPR navigation, Shift+click)</source>
        <translation>Réticule (navigation MPR, Maj+clic)</translation>
    </message>
    <message>
        <source>Mark a point</source>
        <translation>Pointer un repère</translation>
    </message>
    <message>
        <source>Draw a box</source>
        <translation>Tracer un rectangle</translation>
    </message>
    <message>
        <source>Draw an ellipse</source>
        <translation>Tracer une ellipse</translation>
    </message>
    <message>
        <source>Draw a polygon (double-click or Enter closes)</source>
        <translation>Tracer un polygone (double-clic ou Entrée pour fermer)</translation>
    </message>
    <message>
        <source>Select and move marks (Delete removes)</source>
        <translation>Sélectionner et déplacer les repères (Suppr efface)</translation>
    </message>
    <message>
        <source>back to window/level</source>
        <translation>retour au fenêtrage</translation>
    </message>
    <message>
        <source>&amp;Undo</source>
        <translation>&amp;Annuler</translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation>&amp;Rétablir</translation>
    </message>
    <message>
        <source>&amp;Normal</source>
        <translation>&amp;Normal</translation>
    </message>
    <message>
        <source>&amp;Abnormal</source>
        <translation>A&amp;normal</translation>
    </message>
    <message>
        <source>&amp;Sign reading</source>
        <translation>&amp;Signer la lecture</translation>
    </message>
    <message>
        <source>A&amp;mend reading</source>
        <translation>&amp;Rectifier la lecture</translation>
    </message>
    <message>
        <source>&amp;Export reading…</source>
        <translation>&amp;Exporter la lecture…</translation>
    </message>
    <message>
        <source>&amp;Audit…</source>
        <translation>&amp;Audit…</translation>
    </message>
    <message>
        <source>&amp;Setup…</source>
        <translation>&amp;Configuration…</translation>
    </message>
    <message>
        <source>&amp;Blinded first read (AI after sign-off)</source>
        <translation>Première lecture en &amp;aveugle (IA après signature)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Fichier</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Affichage</translation>
    </message>
    <message>
        <source>&amp;Layout</source>
        <translation>&amp;Disposition</translation>
    </message>
    <message>
        <source>Window &amp;presets</source>
        <translation>&amp;Préréglages de fenêtre</translation>
    </message>
    <message>
        <source>&amp;Navigate</source>
        <translation>&amp;Navigation</translation>
    </message>
    <message>
        <source>&amp;Panels</source>
        <translation>&amp;Panneaux</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>&amp;Langue</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>Langue du système</translation>
    </message>
    <message>
        <source>&amp;Tools</source>
        <translation>&amp;Outils</translation>
    </message>
    <message>
        <source>&amp;Reading</source>
        <translation>&amp;Lecture</translation>
    </message>
    <message>
        <source>&amp;AI</source>
        <translation>&amp;IA</translation>
    </message>
    <message>
        <source>Run &amp;automatically</source>
        <translation>Exécution a&amp;utomatique</translation>
    </message>
    <message>
        <source>Model &amp;cards</source>
        <translation>&amp;Fiches des modèles</translation>
    </message>
    <message>
        <source>&amp;PACS</source>
        <translation>&amp;PACS</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>Ai&amp;de</translation>
    </message>
    <message>
        <source>Viewer</source>
        <translation>Visionneuse</translation>
    </message>
    <message>
        <source>Importing…</source>
        <translation>Import en cours…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>Annulation…</translation>
    </message>
    <message>
        <source>%1 / %2</source>
        <translation>%1 / %2</translation>
    </message>
    <message>
        <source>Importing %1</source>
        <translation>Import de %1</translation>
    </message>
    <message>
        <source>Import failed: %1</source>
        <translation>Échec de l&apos;import : %1</translation>
    </message>
    <message>
        <source>Import cancelled; the files read so far are available.</source>
        <translation>Import annulé ; les fichiers déjà lus sont disponibles.</translation>
    </message>
    <message numerus="yes">
        <source>Import finished; %n file(s) could not be read.</source>
        <translation>
            <numerusform>Import terminé ; %n fichier n&apos;a pas pu être lu.</numerusform>
            <numerusform>Import terminé ; %n fichiers n&apos;ont pas pu être lus.</numerusform>
        </translation>
    </message>
    <message>
        <source>Import finished.</source>
        <translation>Import terminé.</translation>
    </message>
    <message>
        <source>This series has no images.</source>
        <translation>Cette série ne contient aucune image.</translation>
    </message>
    <message>
        <source>Cannot display this series: %1</source>
        <translation>Impossible d&apos;afficher cette série : %1</translation>
    </message>
    <message>
        <source>This study has no mammography views to hang.</source>
        <translation>Cet examen ne contient aucune vue de mammographie à disposer.</translation>
    </message>
    <message numerus="yes">
        <source>%n view(s) hung.</source>
        <translation>
            <numerusform>%n vue disposée.</numerusform>
            <numerusform>%n vues disposées.</numerusform>
        </translation>
    </message>
    <message>
        <source>MPR needs a CT or MR volume (at least 3 slices).</source>
        <translation>La MPR nécessite un volume scanner ou IRM (au moins 3 coupes).</translation>
    </message>
    <message>
        <source>Computing reformats…</source>
        <translation>Calcul des reconstructions…</translation>
    </message>
    <message>
        <source>Cannot compute the reformats: %1</source>
        <translation>Impossible de calculer les reconstructions : %1</translation>
    </message>
    <message>
        <source>Open an image first.</source>
        <translation>Ouvrez d&apos;abord une image.</translation>
    </message>
    <message>
        <source>No usable AI model is installed.</source>
        <translation>Aucun modèle d&apos;IA utilisable n&apos;est installé.</translation>
    </message>
    <message>
        <source>AI analysis cancelled.</source>
        <translation>Analyse IA annulée.</translation>
    </message>
    <message>
        <source>Cancelling AI…</source>
        <translation>Annulation de l&apos;IA…</translation>
    </message>
    <message>
        <source>AI: %1…</source>
        <translation>IA : %1…</translation>
    </message>
    <message>
        <source>The AI engine could not run: %1</source>
        <translation>Le moteur d&apos;IA n&apos;a pas pu fonctionner : %1</translation>
    </message>
    <message>
        <source>AI failed: %1</source>
        <translation>Échec de l&apos;IA : %1</translation>
    </message>
    <message>
        <source>Research use only — not for clinical use</source>
        <translation>Usage recherche uniquement — ne pas utiliser en clinique</translation>
    </message>
    <message>
        <source>AI on %1</source>
        <translation>IA exécutée sur %1</translation>
    </message>
    <message>
        <source>Model card: %1</source>
        <translation>Fiche du modèle : %1</translation>
    </message>
    <message>
        <source>Cannot read the model card %1: %2</source>
        <translation>Impossible de lire la fiche du modèle %1 : %2</translation>
    </message>
    <message>
        <source>Cannot open the reading: %1</source>
        <translation>Impossible d&apos;ouvrir la lecture : %1</translation>
    </message>
    <message>
        <source>First reading signed. AI revealed: accept or dismiss its findings, then sign the final reading.</source>
        <translation>Première lecture signée. IA dévoilée : acceptez ou rejetez ses signes, puis signez la lecture finale.</translation>
    </message>
    <message>
        <source>Open a chest, bone or breast radiograph to draw marks.</source>
        <translation>Ouvrez une radiographie thoracique, osseuse ou une mammographie pour poser des repères.</translation>
    </message>
    <message>
        <source>This reading is signed: Amend it to change it.</source>
        <translation>Cette lecture est signée : rectifiez-la pour la modifier.</translation>
    </message>
    <message>
        <source>This image is not part of the study being read.</source>
        <translation>Cette image n&apos;appartient pas à l&apos;examen en cours de lecture.</translation>
    </message>
    <message>
        <source>Mark not added: %1</source>
        <translation>Repère non ajouté : %1</translation>
    </message>
    <message>
        <source>This image is no longer in the database.</source>
        <translation>Cette image n&apos;est plus dans la base.</translation>
    </message>
    <message>
        <source>Blinded first read on: the AI is shown once you sign.</source>
        <translation>Première lecture en aveugle activée : l&apos;IA s&apos;affiche après votre signature.</translation>
    </message>
    <message>
        <source>Blinded first read off: the AI is shown at once.</source>
        <translation>Première lecture en aveugle désactivée : l&apos;IA s&apos;affiche immédiatement.</translation>
    </message>
    <message>
        <source>Open a study with a reading first.</source>
        <translation>Ouvrez d&apos;abord un examen avec une lecture.</translation>
    </message>
    <message>
        <source>Export the reading to</source>
        <translation>Exporter la lecture vers</translation>
    </message>
    <message>
        <source>Exporting the reading…</source>
        <translation>Export de la lecture…</translation>
    </message>
    <message numerus="yes">
        <source>Reading exported to %1 (%n file(s)).</source>
        <translation>
            <numerusform>Lecture exportée vers %1 (%n fichier).</numerusform>
            <numerusform>Lecture exportée vers %1 (%n fichiers).</numerusform>
        </translation>
    </message>
    <message>
        <source>Export failed: %1</source>
        <translation>Échec de l&apos;export : %1</translation>
    </message>
    <message>
        <source>Copy files into Tandem (for CDs and USB sticks)</source>
        <translation>Copier les fichiers dans Tandem (CD et clés USB)</translation>
    </message>
    <message>
        <source>Open folder</source>
        <translation>Ouvrir un dossier</translation>
    </message>
    <message>
        <source>Open files</source>
        <translation>Ouvrir des fichiers</translation>
    </message>
    <message>
        <source>DICOM files (*.dcm *.DCM *.dicom DICOMDIR);;All files (*)</source>
        <translation>Fichiers DICOM (*.dcm *.DCM *.dicom DICOMDIR);;Tous les fichiers (*)</translation>
    </message>
    <message>
        <source>Import DICOMDIR or CD</source>
        <translation>Importer un DICOMDIR ou un CD</translation>
    </message>
    <message>
        <source>DICOMDIR (DICOMDIR DICOMDIR.* dicomdir);;All files (*)</source>
        <translation>DICOMDIR (DICOMDIR DICOMDIR.* dicomdir);;Tous les fichiers (*)</translation>
    </message>
    <message>
        <source>The language will change the next time Tandem starts.</source>
        <translation>La langue changera au prochain démarrage de Tandem.</translation>
    </message>
    <message>
        <source>About Tandem</source>
        <translation>À propos de Tandem</translation>
    </message>
    <message>
        <source>PACS</source>
        <translation>PACS</translation>
    </message>
    <message>
        <source>&amp;Query / retrieve…</source>
        <translation>&amp;Rechercher / récupérer…</translation>
    </message>
    <message>
        <source>&amp;Send exported files…</source>
        <translation>&amp;Envoyer des fichiers exportés…</translation>
    </message>
    <message>
        <source>&amp;Nodes…</source>
        <translation>&amp;Nœuds…</translation>
    </message>
    <message>
        <source>&amp;Receive studies (listen on port %1)</source>
        <translation>Re&amp;cevoir des examens (écoute sur le port %1)</translation>
    </message>
    <message>
        <source>Send to PACS</source>
        <translation>Envoyer au PACS</translation>
    </message>
    <message>
        <source>DICOM files (*.dcm *.DCM *.dicom);;All files (*)</source>
        <translation>Fichiers DICOM (*.dcm *.DCM *.dicom);;Tous les fichiers (*)</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>GPU (%1)</source>
        <translation>GPU (%1)</translation>
    </message>
</context>
<context>
    <name>ModelCard</name>
    <message>
        <source>v%1</source>
        <translation>v%1</translation>
    </message>
    <message>
        <source>Model card</source>
        <translation>Fiche du modèle</translation>
    </message>
    <message>
        <source>Intended use, training data and performance</source>
        <translation>Usage prévu, données d&apos;entraînement et performances</translation>
    </message>
    <message>
        <source>Not run</source>
        <translation>Non exécuté</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>En attente</translation>
    </message>
    <message>
        <source>Running…</source>
        <translation>En cours…</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>Terminé</translation>
    </message>
    <message>
        <source>Not applicable: %1</source>
        <translation>Non applicable : %1</translation>
    </message>
    <message>
        <source>Failed: %1</source>
        <translation>Échec : %1</translation>
    </message>
    <message>
        <source>Disabled: %1</source>
        <translation>Désactivé : %1</translation>
    </message>
    <message>
        <source>no reason given</source>
        <translation>aucune raison indiquée</translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation>%1 ms</translation>
    </message>
    <message>
        <source>Image unlike the training data, accepted by this site&apos;s calibration: the model&apos;s published performance may not hold here.</source>
        <translation>Image différente des images d&apos;entraînement, acceptée par la calibration de ce site : les performances publiées du modèle peuvent ne pas s&apos;appliquer ici.</translation>
    </message>
    <message>
        <source>Findings</source>
        <translation>Détections</translation>
    </message>
    <message numerus="yes">
        <source>%n more below the operating points</source>
        <translation>
            <numerusform>%n autre sous les points de fonctionnement</numerusform>
            <numerusform>%n autres sous les points de fonctionnement</numerusform>
        </translation>
    </message>
    <message>
        <source>No findings</source>
        <translation>Aucune détection</translation>
    </message>
    <message>
        <source>Thresholds of this model version: high sensitivity %1, high specificity %2</source>
        <translation>Seuils de cette version du modèle : haute sensibilité %1, haute spécificité %2</translation>
    </message>
    <message>
        <source>heatmap</source>
        <translation>carte de chaleur</translation>
    </message>
    <message>
        <source>High specificity</source>
        <translation>Haute spécificité</translation>
    </message>
    <message>
        <source>Meets the high-specificity operating point</source>
        <translation>Atteint le point de fonctionnement haute spécificité</translation>
    </message>
    <message>
        <source>High sensitivity</source>
        <translation>Haute sensibilité</translation>
    </message>
    <message>
        <source>Meets only the high-sensitivity operating point</source>
        <translation>N&apos;atteint que le point de fonctionnement haute sensibilité</translation>
    </message>
</context>
<context>
    <name>NodesDialog</name>
    <message>
        <source>PACS nodes</source>
        <translation>Nœuds PACS</translation>
    </message>
    <message>
        <source>&amp;New node</source>
        <translation>&amp;Nouveau nœud</translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation>&amp;Supprimer</translation>
    </message>
    <message>
        <source>pacs.example.local or 192.168.1.10</source>
        <translation>pacs.exemple.local ou 192.168.1.10</translation>
    </message>
    <message>
        <source>DICOM over TLS</source>
        <translation>DICOM sur TLS</translation>
    </message>
    <message>
        <source>the practice&apos;s certificate authority (PEM); empty: the system&apos;s</source>
        <translation>l&apos;autorité de certification du cabinet (PEM) ; vide : celle du système</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>Choisir…</translation>
    </message>
    <message>
        <source>optional, e.g. https://pacs/dicom-web</source>
        <translation>facultatif, p. ex. https://pacs/dicom-web</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>Nom :</translation>
    </message>
    <message>
        <source>AE title:</source>
        <translation>AE title :</translation>
    </message>
    <message>
        <source>Host:</source>
        <translation>Hôte :</translation>
    </message>
    <message>
        <source>Port:</source>
        <translation>Port :</translation>
    </message>
    <message>
        <source>TLS authority:</source>
        <translation>Autorité TLS :</translation>
    </message>
    <message>
        <source>DICOMweb URL:</source>
        <translation>URL DICOMweb :</translation>
    </message>
    <message>
        <source>&amp;Save node</source>
        <translation>&amp;Enregistrer le nœud</translation>
    </message>
    <message>
        <source>&amp;Test connection</source>
        <translation>&amp;Tester la connexion</translation>
    </message>
    <message>
        <source>This workstation (Tandem)</source>
        <translation>Ce poste (Tandem)</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Enregistrer</translation>
    </message>
    <message>
        <source>Port (receiving):</source>
        <translation>Port (réception) :</translation>
    </message>
    <message>
        <source>Declare this AE title, this computer&apos;s address and this port on the PACS so that it can send studies here (C-MOVE).</source>
        <translation>Déclarez cet AE title, l&apos;adresse de cet ordinateur et ce port sur le PACS pour qu&apos;il puisse envoyer des examens ici (C-MOVE).</translation>
    </message>
    <message>
        <source>Cannot read the PACS configuration: %1</source>
        <translation>Impossible de lire la configuration PACS : %1</translation>
    </message>
    <message>
        <source>The practice&apos;s certificate authority</source>
        <translation>L&apos;autorité de certification du cabinet</translation>
    </message>
    <message>
        <source>Certificates (*.pem *.crt *.cer);;All files (*)</source>
        <translation>Certificats (*.pem *.crt *.cer);;Tous les fichiers (*)</translation>
    </message>
    <message>
        <source>The certificate authority file %1 does not exist.</source>
        <translation>Le fichier d&apos;autorité de certification %1 n&apos;existe pas.</translation>
    </message>
    <message>
        <source>The name must be 1 to 64 printable characters.</source>
        <translation>Le nom doit comporter de 1 à 64 caractères imprimables.</translation>
    </message>
    <message>
        <source>The AE title must be 1 to 16 characters of plain ASCII (no backslash).</source>
        <translation>L&apos;AE title doit comporter de 1 à 16 caractères ASCII simples (sans barre oblique inverse).</translation>
    </message>
    <message>
        <source>The host must be a computer name or an IP address, without spaces.</source>
        <translation>L&apos;hôte doit être un nom d&apos;ordinateur ou une adresse IP, sans espaces.</translation>
    </message>
    <message>
        <source>The DICOMweb URL must start with http:// or https://.</source>
        <translation>L&apos;URL DICOMweb doit commencer par http:// ou https://.</translation>
    </message>
    <message>
        <source>A node named “%1” already exists.</source>
        <translation>Un nœud nommé « %1 » existe déjà.</translation>
    </message>
    <message>
        <source>Cannot save the PACS configuration: %1</source>
        <translation>Impossible d&apos;enregistrer la configuration PACS : %1</translation>
    </message>
    <message>
        <source>Node “%1” saved.</source>
        <translation>Nœud « %1 » enregistré.</translation>
    </message>
    <message>
        <source>Node “%1” removed.</source>
        <translation>Nœud « %1 » supprimé.</translation>
    </message>
    <message>
        <source>Testing the connection to %1…</source>
        <translation>Test de la connexion à %1…</translation>
    </message>
    <message>
        <source>Connection OK (C-ECHO in %1 ms).</source>
        <translation>Connexion réussie (C-ECHO en %1 ms).</translation>
    </message>
    <message>
        <source>Connection failed after %1 ms: %2</source>
        <translation>Échec de la connexion après %1 ms : %2</translation>
    </message>
    <message>
        <source>Connection failed: %1</source>
        <translation>Échec de la connexion : %1</translation>
    </message>
    <message>
        <source>Saved.</source>
        <translation>Enregistré.</translation>
    </message>
</context>
<context>
    <name>PacsQueryPanel</name>
    <message>
        <source>DOE* (wildcards * and ?)</source>
        <translation>DUPONT* (jokers * et ?)</translation>
    </message>
    <message>
        <source>Family name first; a name without a wildcard matches every name that starts with it.</source>
        <translation>Nom de famille d&apos;abord ; un nom sans joker trouve tous les noms qui commencent ainsi.</translation>
    </message>
    <message>
        <source>Any</source>
        <translation>Toutes</translation>
    </message>
    <message>
        <source>Between</source>
        <translation>Entre</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>Aujourd&apos;hui</translation>
    </message>
    <message>
        <source>7 days</source>
        <translation>7 jours</translation>
    </message>
    <message>
        <source>Any date</source>
        <translation>Toute date</translation>
    </message>
    <message>
        <source>and</source>
        <translation>et</translation>
    </message>
    <message>
        <source>&amp;Search</source>
        <translation>&amp;Rechercher</translation>
    </message>
    <message>
        <source>PACS:</source>
        <translation>PACS :</translation>
    </message>
    <message>
        <source>Patient name:</source>
        <translation>Nom du patient :</translation>
    </message>
    <message>
        <source>Patient ID:</source>
        <translation>ID patient :</translation>
    </message>
    <message>
        <source>Study date:</source>
        <translation>Date de l&apos;examen :</translation>
    </message>
    <message>
        <source>Modality:</source>
        <translation>Modalité :</translation>
    </message>
    <message>
        <source>Accession number:</source>
        <translation>Numéro d&apos;accession :</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Date</translation>
    </message>
    <message>
        <source>Patient</source>
        <translation>Patient</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>Modalities</source>
        <translation>Modalités</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Description</translation>
    </message>
    <message>
        <source>Series</source>
        <translation>Séries</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>Images</translation>
    </message>
    <message>
        <source>C-MOVE (to Tandem&apos;s listener)</source>
        <translation>C-MOVE (vers l&apos;écoute de Tandem)</translation>
    </message>
    <message>
        <source>C-GET</source>
        <translation>C-GET</translation>
    </message>
    <message>
        <source>WADO-RS (DICOMweb)</source>
        <translation>WADO-RS (DICOMweb)</translation>
    </message>
    <message>
        <source>&amp;Retrieve</source>
        <translation>Ré&amp;cupérer</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <source>Cannot read the PACS configuration: %1</source>
        <translation>Impossible de lire la configuration PACS : %1</translation>
    </message>
    <message>
        <source>No PACS node is configured: add one in PACS &gt; Nodes…</source>
        <translation>Aucun nœud PACS n&apos;est configuré : ajoutez-en un dans PACS &gt; Nœuds…</translation>
    </message>
    <message>
        <source>Searching %1…</source>
        <translation>Recherche sur %1…</translation>
    </message>
    <message numerus="yes">
        <source>%n study(ies) found.</source>
        <translation>
            <numerusform>%n examen trouvé.</numerusform>
            <numerusform>%n examens trouvés.</numerusform>
        </translation>
    </message>
    <message>
        <source>Search failed: %1</source>
        <translation>Échec de la recherche : %1</translation>
    </message>
    <message>
        <source>Node “%1” has no DICOMweb URL: choose C-MOVE or C-GET, or add the URL in PACS &gt; Nodes…</source>
        <translation>Le nœud « %1 » n&apos;a pas d&apos;URL DICOMweb : choisissez C-MOVE ou C-GET, ou ajoutez l&apos;URL dans PACS &gt; Nœuds…</translation>
    </message>
    <message>
        <source>Retrieving from %1…</source>
        <translation>Récupération depuis %1…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>Annulation…</translation>
    </message>
    <message>
        <source>%1 / %2</source>
        <translation>%1 / %2</translation>
    </message>
    <message numerus="yes">
        <source>Retrieve cancelled: %n image(s) received.</source>
        <translation>
            <numerusform>Récupération annulée : %n image reçue.</numerusform>
            <numerusform>Récupération annulée : %n images reçues.</numerusform>
        </translation>
    </message>
    <message>
        <source>Retrieved %1 image(s); the PACS could not send %2.</source>
        <translation>%1 image(s) récupérée(s) ; le PACS n&apos;a pas pu en envoyer %2.</translation>
    </message>
    <message numerus="yes">
        <source>Retrieved %n image(s) in %1 s.</source>
        <translation>
            <numerusform>%n image récupérée en %1 s.</numerusform>
            <numerusform>%n images récupérées en %1 s.</numerusform>
        </translation>
    </message>
    <message>
        <source>Retrieve failed: %1</source>
        <translation>Échec de la récupération : %1</translation>
    </message>
</context>
<context>
    <name>Presets</name>
    <message>
        <source>Lung</source>
        <translation>Poumon</translation>
    </message>
    <message>
        <source>Mediastinum</source>
        <translation>Médiastin</translation>
    </message>
    <message>
        <source>Bone</source>
        <translation>Os</translation>
    </message>
    <message>
        <source>Brain</source>
        <translation>Cerveau</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>Par défaut</translation>
    </message>
    <message>
        <source>Auto</source>
        <translation>Auto</translation>
    </message>
</context>
<context>
    <name>PrivacyActions</name>
    <message>
        <source>Save a de-identified &amp;screenshot…</source>
        <translation>Enregistrer une &amp;capture anonymisée…</translation>
    </message>
    <message>
        <source>Export the study &amp;de-identified…</source>
        <translation>Exporter l&apos;examen &amp;anonymisé…</translation>
    </message>
    <message>
        <source>De-identified screenshot saved to %1.</source>
        <translation>Capture anonymisée enregistrée dans %1.</translation>
    </message>
    <message>
        <source>The screenshot could not be written to %1.</source>
        <translation>La capture n&apos;a pas pu être écrite dans %1.</translation>
    </message>
    <message>
        <source>Save a de-identified screenshot</source>
        <translation>Enregistrer une capture anonymisée</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>Images PNG (*.png)</translation>
    </message>
    <message>
        <source>De-identification failed: %1</source>
        <translation>Échec de l&apos;anonymisation : %1</translation>
    </message>
    <message>
        <source>De-identifying the study…</source>
        <translation>Anonymisation de l&apos;examen…</translation>
    </message>
    <message>
        <source>Open a study first.</source>
        <translation>Ouvrez d&apos;abord un examen.</translation>
    </message>
    <message>
        <source>Export the study de-identified to</source>
        <translation>Exporter l&apos;examen anonymisé vers</translation>
    </message>
    <message>
        <source>%1 file(s) written to %2 (basic confidentiality profile: names, IDs, dates, institution and device removed or replaced; UIDs remapped).</source>
        <translation>%1 fichier(s) écrit(s) dans %2 (profil de confidentialité de base : noms, identifiants, dates, établissement et appareil supprimés ou remplacés ; UID renumérotés).</translation>
    </message>
    <message>
        <source>Check these images before sharing: their pixels may show the patient&apos;s name, and pixels are NOT cleaned: %1</source>
        <translation>Vérifiez ces images avant de les partager : leurs pixels peuvent montrer le nom du patient, et les pixels ne sont PAS nettoyés : %1</translation>
    </message>
    <message>
        <source>Not exported: %1</source>
        <translation>Non exportés : %1</translation>
    </message>
    <message>
        <source>De-identified copy</source>
        <translation>Copie anonymisée</translation>
    </message>
</context>
<context>
    <name>QtTextFormatter</name>
    <message>
        <source>ID: %1</source>
        <translation>ID : %1</translation>
    </message>
    <message>
        <source>Se %1</source>
        <translation>Série %1</translation>
    </message>
    <message>
        <source>Im %1/%2</source>
        <translation>Im %1/%2</translation>
    </message>
    <message>
        <source>Pos %1 mm</source>
        <translation>Pos %1 mm</translation>
    </message>
    <message>
        <source>W %1 L %2</source>
        <translation>W %1 L %2</translation>
    </message>
    <message>
        <source>Inverted</source>
        <translation>Inversé</translation>
    </message>
    <message>
        <source>Zoom %1 %</source>
        <translation>Zoom %1 %</translation>
    </message>
    <message>
        <source>%1 mm</source>
        <translation>%1 mm</translation>
    </message>
    <message>
        <source>(detector)</source>
        <translation>(détecteur)</translation>
    </message>
</context>
<context>
    <name>ReadingPanel</name>
    <message>
        <source>My reading</source>
        <translation>Ma lecture</translation>
    </message>
    <message>
        <source>Marks</source>
        <translation>Repères</translation>
    </message>
    <message>
        <source>New marks:</source>
        <translation>Nouveaux repères :</translation>
    </message>
    <message>
        <source>Label given to the next mark you draw (P point, B box, E ellipse, G polygon, S select and move, Delete removes the selected mark, Esc back to window/level)</source>
        <translation>Libellé du prochain repère (P point, B rectangle, E ellipse, G polygone, S sélection et déplacement, Suppr efface le repère sélectionné, Échap retour au fenêtrage)</translation>
    </message>
    <message>
        <source>Mark</source>
        <translation>Repère</translation>
    </message>
    <message>
        <source>Label</source>
        <translation>Libellé</translation>
    </message>
    <message>
        <source>Confidence</source>
        <translation>Confiance</translation>
    </message>
    <message>
        <source>Comments</source>
        <translation>Commentaire</translation>
    </message>
    <message>
        <source>Free text (saved as you type)</source>
        <translation>Texte libre (enregistré pendant la frappe)</translation>
    </message>
    <message>
        <source>Sign</source>
        <translation>Signer</translation>
    </message>
    <message>
        <source>Sign this reading (Ctrl+Return); a signed reading can only be amended</source>
        <translation>Signer cette lecture (Ctrl+Entrée) ; une lecture signée ne peut qu&apos;être rectifiée</translation>
    </message>
    <message>
        <source>Amend</source>
        <translation>Rectifier</translation>
    </message>
    <message>
        <source>Correct a signed reading: a new version that points to the signed one</source>
        <translation>Corriger une lecture signée : nouvelle version liée à la version signée</translation>
    </message>
    <message>
        <source>Open a study to record your reading.</source>
        <translation>Ouvrez un examen pour saisir votre lecture.</translation>
    </message>
    <message>
        <source>This kind of study has no reading form yet (chest and bone radiographs, mammography).</source>
        <translation>Ce type d&apos;examen n&apos;a pas encore de formulaire de lecture (radiographies thoraciques et osseuses, mammographie).</translation>
    </message>
    <message>
        <source>Signed %1 by %2, version %3</source>
        <translation>Signée le %1 par %2, version %3</translation>
    </message>
    <message>
        <source>Draft — autosaved %1</source>
        <translation>Brouillon — enregistré à %1</translation>
    </message>
    <message>
        <source>First read: the AI stays hidden until you sign.</source>
        <translation>Première lecture : l&apos;IA reste masquée jusqu&apos;à votre signature.</translation>
    </message>
    <message>
        <source>AI revealed: accept or dismiss its findings, then sign the final reading.</source>
        <translation>IA dévoilée : acceptez ou rejetez ses signes, puis signez la lecture finale.</translation>
    </message>
    <message>
        <source>Amendment of version %1.</source>
        <translation>Rectificatif de la version %1.</translation>
    </message>
    <message>
        <source>Normal</source>
        <translation>Normale</translation>
    </message>
    <message>
        <source>Normal chest radiograph (U)</source>
        <translation>Radiographie thoracique normale (U)</translation>
    </message>
    <message>
        <source>Abnormal</source>
        <translation>Anormale</translation>
    </message>
    <message>
        <source>Abnormal chest radiograph (Shift+U)</source>
        <translation>Radiographie thoracique anormale (Maj+U)</translation>
    </message>
    <message>
        <source>Image %1</source>
        <translation>Image %1</translation>
    </message>
    <message>
        <source>Fracture</source>
        <translation>Fracture</translation>
    </message>
    <message>
        <source>No fracture</source>
        <translation>Pas de fracture</translation>
    </message>
    <message>
        <source>BI-RADS</source>
        <translation>BI-RADS</translation>
    </message>
    <message>
        <source>Density</source>
        <translation>Densité</translation>
    </message>
    <message>
        <source>Right breast</source>
        <translation>Sein droit</translation>
    </message>
    <message>
        <source>Left breast</source>
        <translation>Sein gauche</translation>
    </message>
    <message>
        <source>Delete this mark (Delete)</source>
        <translation>Supprimer ce repère (Suppr)</translation>
    </message>
    <message>
        <source>Marks (%1)</source>
        <translation>Repères (%1)</translation>
    </message>
</context>
<context>
    <name>SendDialog</name>
    <message>
        <source>Send to PACS</source>
        <translation>Envoyer au PACS</translation>
    </message>
    <message numerus="yes">
        <source>%n file(s) to send.</source>
        <translation>
            <numerusform>%n fichier à envoyer.</numerusform>
            <numerusform>%n fichiers à envoyer.</numerusform>
        </translation>
    </message>
    <message>
        <source>&amp;Send</source>
        <translation>&amp;Envoyer</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <source>Send to:</source>
        <translation>Envoyer à :</translation>
    </message>
    <message>
        <source>Cannot read the PACS configuration: %1</source>
        <translation>Impossible de lire la configuration PACS : %1</translation>
    </message>
    <message>
        <source>No PACS node is configured: add one in PACS &gt; Nodes…</source>
        <translation>Aucun nœud PACS n&apos;est configuré : ajoutez-en un dans PACS &gt; Nœuds…</translation>
    </message>
    <message>
        <source>Sending to %1…</source>
        <translation>Envoi vers %1…</translation>
    </message>
    <message>
        <source>%1 of %2 file(s) sent.</source>
        <translation>%1 fichier(s) sur %2 envoyé(s).</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>Annulé.</translation>
    </message>
    <message>
        <source>Sending failed: %1</source>
        <translation>Échec de l&apos;envoi : %1</translation>
    </message>
</context>
<context>
    <name>StudyBrowser</name>
    <message>
        <source>Patient / study / series</source>
        <translation>Patient / examen / série</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Date</translation>
    </message>
    <message>
        <source>Modality</source>
        <translation>Modalité</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>Images</translation>
    </message>
    <message>
        <source>Reading</source>
        <translation>Lecture</translation>
    </message>
    <message>
        <source>Discordant first</source>
        <translation>Discordants d&apos;abord</translation>
    </message>
    <message>
        <source>Show the studies whose reading disagrees with the AI first</source>
        <translation>Afficher d&apos;abord les examens où la lecture et l&apos;IA divergent</translation>
    </message>
    <message>
        <source>(no name)</source>
        <translation>(sans nom)</translation>
    </message>
    <message>
        <source>(no description)</source>
        <translation>(sans description)</translation>
    </message>
    <message>
        <source>Acc. %1</source>
        <translation>N° acc. %1</translation>
    </message>
    <message>
        <source>unread</source>
        <translation>non lu</translation>
    </message>
    <message>
        <source>AI running</source>
        <translation>IA en cours</translation>
    </message>
    <message>
        <source>in progress</source>
        <translation>en cours</translation>
    </message>
    <message>
        <source>read</source>
        <translation>lu</translation>
    </message>
    <message>
        <source>discordant</source>
        <translation>discordant</translation>
    </message>
    <message>
        <source>amended</source>
        <translation>amendé</translation>
    </message>
    <message>
        <source>AI: likely normal</source>
        <translation>IA : probablement normal</translation>
    </message>
    <message>
        <source>Your reading and the AI disagree: see the concordance</source>
        <translation>Votre lecture et l&apos;IA divergent : voir la concordance</translation>
    </message>
    <message>
        <source>The signed reading was amended</source>
        <translation>La lecture signée a été amendée</translation>
    </message>
    <message>
        <source>The AI score is under the model&apos;s high-sensitivity threshold: a triage hint, not a report</source>
        <translation>Score IA sous le seuil de haute sensibilité du modèle : aide au tri, pas un compte rendu</translation>
    </message>
    <message numerus="yes">
        <source>%n image(s)</source>
        <translation>
            <numerusform>%n image</numerusform>
            <numerusform>%n images</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ViewportArea</name>
    <message>
        <source>Drop a series here</source>
        <translation>Déposez une série ici</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>Chargement…</translation>
    </message>
    <message>
        <source>Loading images: %1 / %2</source>
        <translation>Chargement des images : %1 / %2</translation>
    </message>
</context>
<context>
    <name>_FindingRow</name>
    <message>
        <source>Possible miss</source>
        <translation>Omission possible</translation>
    </message>
    <message>
        <source>Agreed</source>
        <translation>Concordant</translation>
    </message>
    <message>
        <source>Reader only</source>
        <translation>Lecteur seul</translation>
    </message>
    <message>
        <source>your mark: %1</source>
        <translation>votre marque : %1</translation>
    </message>
    <message>
        <source>Your mark: %1</source>
        <translation>Votre marque : %1</translation>
    </message>
    <message>
        <source>Your mark</source>
        <translation>Votre marque</translation>
    </message>
    <message>
        <source>high-specificity operating point met</source>
        <translation>point de fonctionnement haute spécificité atteint</translation>
    </message>
    <message>
        <source>only the high-sensitivity operating point met</source>
        <translation>seul le point haute sensibilité est atteint</translation>
    </message>
    <message>
        <source>%1 v%2 (sha256 %3…)</source>
        <translation>%1 v%2 (sha256 %3…)</translation>
    </message>
    <message>
        <source>Accept</source>
        <translation>Accepter</translation>
    </message>
    <message>
        <source>The AI is right: keep this finding in the final reading</source>
        <translation>L&apos;IA a raison : garder cette anomalie dans la lecture finale</translation>
    </message>
    <message>
        <source>Dismiss</source>
        <translation>Rejeter</translation>
    </message>
    <message>
        <source>The AI is wrong here; give a reason if you wish</source>
        <translation>L&apos;IA se trompe ici ; indiquez un motif si vous le souhaitez</translation>
    </message>
    <message>
        <source>Reason (optional)</source>
        <translation>Motif (facultatif)</translation>
    </message>
    <message>
        <source>Why you accept or dismiss it (optional)</source>
        <translation>Pourquoi vous l&apos;acceptez ou la rejetez (facultatif)</translation>
    </message>
    <message>
        <source>Accepted</source>
        <translation>Accepté</translation>
    </message>
    <message>
        <source>Dismissed</source>
        <translation>Rejeté</translation>
    </message>
</context>
</TS>
