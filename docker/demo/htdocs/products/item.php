<?php $id = $_GET['id'] ?? 'unknown'; $title = 'Product ' . $id; include __DIR__ . '/../_header.php'; ?>
<p>Details for <?= htmlspecialchars($id) ?>.</p>
<?php include __DIR__ . '/../_footer.php'; ?>
