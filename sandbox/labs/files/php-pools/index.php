<?php
// La page de chaque site (la même pour les deux) : le site, l'utilisateur sous lequel PHP s'exécute, et
// une session, qui ne marche sous open_basedir que si session.save_path est dans le dossier du site.
session_start();
$_SESSION['visites'] = ($_SESSION['visites'] ?? 0) + 1;
$site = htmlspecialchars($_SERVER['SERVER_NAME']);
$utilisateur = posix_getpwuid(posix_geteuid())['name'];
?><!doctype html>
<html lang="fr">
    <head>
        <meta charset="utf-8">
        <title><?= $site ?></title>
    </head>
    <body>
        <h1><?= $site ?></h1>
        <p>PHP s’exécute sous l’utilisateur <strong id="utilisateur"><?= htmlspecialchars($utilisateur) ?></strong>.</p>
        <p>Visites dans cette session : <strong id="visites"><?= $_SESSION['visites'] ?></strong></p>
        <p><a href="/voisin.php">Lire la configuration du site voisin</a></p>
    </body>
</html>
