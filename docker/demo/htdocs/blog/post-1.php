<?php $title = 'First post'; include __DIR__ . '/../_header.php'; ?>
<p>Hello, world.</p>
<?php include __DIR__ . '/../_footer.php'; ?>
