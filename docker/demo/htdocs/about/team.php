<?php $title = 'Team'; include __DIR__ . '/../_header.php'; ?>
<p>Meet the team.</p>
<?php include __DIR__ . '/../_footer.php'; ?>
