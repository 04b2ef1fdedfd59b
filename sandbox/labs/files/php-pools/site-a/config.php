<?php
// La configuration du site A, hors de sa racine web : seul le site A doit pouvoir la lire.
return ['base' => 'site_a', 'mot_de_passe' => 'secret-du-site-a'];
