<!Doctype html>
<html>
    <head>
        <title>PHP-FPM</title>
        <meta charset="utf-8">
    </head>
    <body>
        <h1>PHP-FPM</h1>
        <h2><?= PHP_VERSION ?></h2>
    </body>
</html>
