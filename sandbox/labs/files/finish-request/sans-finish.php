<?php
// Sans fastcgi_finish_request() : le client attend la fin du travail pour recevoir la réponse.
$log = '/tmp/travail.log';
echo "Réponse préparée à " . date('H:i:s') . "\n";

file_put_contents($log, date('H:i:s') . " sans-finish.php : début du travail\n", FILE_APPEND);
sleep(4); // le même travail long
file_put_contents($log, date('H:i:s') . " sans-finish.php : travail terminé\n", FILE_APPEND);
