<?php $title = 'Acme Widgets'; include __DIR__ . '/_header.php'; ?>
<p>Welcome to Acme Widgets, serving fine widgets since 2004.</p>
<ul>
  <li><a href="/products/">Products</a></li>
  <li><a href="/about/">About us</a></li>
  <li><a href="/contact.php">Contact</a></li>
  <li><a href="/blog/">Blog</a></li>
</ul>
<?php include __DIR__ . '/_footer.php'; ?>
