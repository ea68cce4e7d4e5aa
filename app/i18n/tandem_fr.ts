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
        <source>Left &amp;button</source>
        <translation>&amp;Bouton gauche</translation>
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
        <source>Open a study to record your reading.</source>
        <translation>Ouvrez un examen pour saisir votre lecture.</translation>
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
</TS>
