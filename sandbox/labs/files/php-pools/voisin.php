<?php
// Un script du site (piraté, ou simplement mal écrit) qui tente de lire le mot de passe du site voisin, de
// deux façons : par une fonction de fichiers de PHP (que open_basedir surveille), puis par une commande du
// système (que open_basedir ne voit pas : seuls les droits des fichiers l'arrêtent).
header('Content-Type: text/plain; charset=utf-8');
$moi = basename(dirname(__DIR__));
$voisin = $moi === 'site-a' ? 'site-b' : 'site-a';
$cible = "/var/www/$voisin/config.php";

echo 'Utilisateur : ', posix_getpwuid(posix_geteuid())['name'], "\n";
echo "Cible : $cible\n\n";

// Chaque avertissement de PHP est gardé pour être affiché : le premier dit qui a refusé.
$avertissements = [];
set_error_handler(function (int $niveau, string $message) use (&$avertissements): bool {
    $avertissements[] = $message;
    return true;
});
$lu = file_get_contents($cible);
echo 'file_get_contents() : ', $lu === false ? 'refusé. ' . implode(' ', $avertissements) : "lu !\n$lu", "\n\n";

echo "shell_exec('cat') : ", trim((string) shell_exec('cat ' . escapeshellarg($cible) . ' 2>&1')), "\n";
