// Click a header to sort; numbers sort by the raw value in data-v (empty = no value, always last).
(function(){
  function key(cell){var v=cell.getAttribute('data-v');if(v===null){return cell.textContent.trim().toLowerCase();}
    return v===''?null:parseFloat(v);}
  function sortBy(table,col,th){
    var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
    var numeric=th.getAttribute('data-type')==='num';
    var dir=th.classList.contains(numeric?'desc':'asc')?(numeric?'asc':'desc'):(numeric?'desc':'asc');
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(h){h.classList.remove('asc','desc');});
    th.classList.add(dir);var sign=dir==='asc'?1:-1;
    rows.sort(function(a,b){var x=key(a.cells[col]),y=key(b.cells[col]);
      if(x===null&&y===null){return 0;}if(x===null){return 1;}if(y===null){return -1;}
      return x<y?-sign:(x>y?sign:0);});
    rows.forEach(function(r){body.appendChild(r);});
  }
  var tables=document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(tables,function(t){
    Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){
      th.addEventListener('click',function(){sortBy(t,i,th);});});});
})();
