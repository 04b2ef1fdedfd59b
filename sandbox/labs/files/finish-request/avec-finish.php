<?php
// La réponse part tout de suite ; le travail continue ensuite, client déjà servi.
$log = '/tmp/travail.log';
echo "Réponse envoyée à " . date('H:i:s') . "\n";

fastcgi_finish_request(); // fin de la requête pour le client (Nginx ou Apache httpd)

file_put_contents($log, date('H:i:s') . " avec-finish.php : début du travail\n", FILE_APPEND);
sleep(4); // un travail long : envoi de mails, redimensionnement d'images...
file_put_contents($log, date('H:i:s') . " avec-finish.php : travail terminé\n", FILE_APPEND);
