<?php
// La configuration du site B, hors de sa racine web : seul le site B doit pouvoir la lire.
return ['base' => 'site_b', 'mot_de_passe' => 'secret-du-site-b'];
