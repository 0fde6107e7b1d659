// Live order total on the order form; the server validates and computes it again.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("order-form");
  if (!form) return;
  const update = () => {
    const option = form.product_id.selectedOptions[0];
    const cents = Number(option && option.dataset.price || 0) * Number(form.quantity.value || 0);
    document.getElementById("total").textContent = (cents / 100).toFixed(2);
  };
  form.addEventListener("input", update);
  update();
});
