<?php $title = 'Second post'; include __DIR__ . '/../_header.php'; ?>
<p>Widgets are back in stock.</p>
<?php include __DIR__ . '/../_footer.php'; ?>
