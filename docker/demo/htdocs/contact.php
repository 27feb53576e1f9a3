<?php $title = 'Contact'; include __DIR__ . '/_header.php'; ?>
<form method="post"><label>Email <input name="email" type="email"></label><button>Send</button></form>
<?php include __DIR__ . '/_footer.php'; ?>
