<?php $title = 'About'; include __DIR__ . '/../_header.php'; ?>
<p>Acme is a family business.</p>
<?php include __DIR__ . '/../_footer.php'; ?>
