<?php $title = 'Products'; include __DIR__ . '/../_header.php'; ?>
<?php foreach (['sprocket', 'gizmo', 'widget'] as $p): ?>
<p><a href="/products/item.php?id=<?= urlencode($p) ?>"><?= htmlspecialchars($p) ?></a></p>
<?php endforeach; ?>
<?php include __DIR__ . '/../_footer.php'; ?>
